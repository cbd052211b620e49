import { createRequire } from 'node:module';
import path from 'node:path';
import { FastTextModel } from './fasttext.js';

/**
 * Language identification with fastText's `lid.176.ftz` (Joulin et al. 2016; the model cc_net, RedPajama and
 * FineWeb use), run by this package's TypeScript fastText (`fasttext.ts`: fastText's labels, and its probabilities
 * to a float32 ulp) on the model file the `fasttext.wasm.js` package ships. Labels are the model's codes: ISO 639-1 where one
 * exists (`en`, `vi`, `bg`), else ISO 639-3 or Wikipedia codes (`ceb`, `als`).
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
   * (30–50 µs per 1000 characters here), and a few thousand characters identify a language as well as the whole
   * document. Default 1000 (on the Wikipedia samples, 300 characters to whole articles give the same accuracy).
   */
  maxChars?: number;
  drop?: boolean;
}

/** `lid.176.ftz` as `fasttext.wasm.js` ships it (the file its own `getLIDModel` loads). */
export const LANGUAGE_MODEL_FILE = path.join(
  path.dirname(createRequire(import.meta.url).resolve('fasttext.wasm.js/package.json')),
  'dist/models/language-identification/assets/lid.176.ftz',
);

let model: FastTextModel | null = null;
let codes: string[] = [];

/** The model, loaded once per thread (about 0.1 s). */
export function languageModel(): FastTextModel {
  if (!model) {
    model = FastTextModel.load(LANGUAGE_MODEL_FILE);
    codes = model.labels.map((l) => l.replace('__label__', ''));
  }
  return model;
}

/** Loads the model once per thread; kept async for callers written against the WebAssembly build. */
export async function loadLanguageModel(): Promise<FastTextModel> {
  return languageModel();
}

/**
 * The most likely language of `text` (its first `maxChars` characters, line breaks read as spaces, since fastText
 * reads one line), synchronously. Same answers as fastText on that line: even text without words gets the label
 * of the end-of-line token alone (`en`, 0.12); `und` with score 0 only if the model predicted nothing.
 */
export function identifyLanguageSync(text: string, maxChars = 1000): LanguageScore {
  const m = languageModel();
  const label = m.topLabel(text, maxChars);
  if (label < 0) return { language: 'und', score: 0 };
  return { language: codes[label]!, score: m.topProbability };
}

/** `identifyLanguageSync` behind a promise (the API the pipeline was written against). */
export async function identifyLanguage(text: string, maxChars = 1000): Promise<LanguageScore> {
  return identifyLanguageSync(text, maxChars);
}
