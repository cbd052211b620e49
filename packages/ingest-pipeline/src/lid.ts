import { getLIDModel } from 'fasttext.wasm.js';

/**
 * Language identification with fastText's `lid.176.ftz` (Joulin et al. 2016; the model cc_net, RedPajama and
 * FineWeb use), run as WebAssembly through the `fasttext.wasm.js` package, which ships the model. Labels are
 * the model's codes: ISO 639-1 where one exists (`en`, `vi`, `bg`), else ISO 639-3 or Wikipedia codes (`ceb`, `als`).
 */
export interface LanguageScore {
  /** Most likely language code, e.g. `en`. */
  language: string;
  /** Its probability, in [0, 1]. */
  score: number;
}

export interface LanguageOptions {
  /** Keep only documents identified as one of these codes (with `minScore`). Default: keep every language, only score. */
  languages?: string[] | null;
  /** Identified language's probability below this: dropped when `languages` is given. Default 0.65 (FineWeb). */
  minScore?: number;
  /**
   * Characters of the document given to the model (the start of the text). fastText's cost grows with the input
   * (about 3 MB/s per core in WebAssembly), and a few thousand characters identify a language as well as the whole
   * document. Default 1000 (on the Wikipedia samples, 300 characters to whole articles give the same accuracy).
   */
  maxChars?: number;
  drop?: boolean;
}

interface Model {
  predict(text: string, k: number, threshold: number): Prediction;
}
interface Prediction {
  size(): number;
  get(i: number): [number, string];
  delete(): void;
}

let model: Promise<Model> | null = null;

/** Loads the model once per thread (about half a second). */
export function loadLanguageModel(): Promise<Model> {
  // The package's typings do not resolve under NodeNext (its `types` condition comes last): typed here.
  model ??= (getLIDModel as () => Promise<{ load(): Promise<Model> }>)().then((m) => m.load());
  return model;
}

/** The most likely language of `text` (its first `maxChars` characters, newlines as spaces). */
export async function identifyLanguage(text: string, maxChars = 1000): Promise<LanguageScore> {
  const m = await loadLanguageModel();
  // fastText reads one line: a newline would end the input.
  const input = text.slice(0, maxChars).replace(/[\r\n\t\v\f\u2028\u2029]+/g, ' ');
  const prediction = m.predict(input, 1, 0);
  try {
    if (prediction.size() === 0) return { language: 'und', score: 0 };
    const [score, label] = prediction.get(0);
    return { language: label.replace('__label__', ''), score };
  } finally {
    // Embind vectors live on the WebAssembly heap until deleted.
    prediction.delete();
  }
}
