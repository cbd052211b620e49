import { readFileSync } from 'node:fs';
import { MalformedInputError } from '@pretext/core';

/**
 * fastText inference in TypeScript: reads a model file written by fastText 0.9 (`.bin` or quantized `.ftz`) and
 * predicts labels the way fastText's `predict` does for one line of text, with the same float32 arithmetic, so a
 * supervised model such as `lid.176.ftz` gives the same labels and probabilities as fastText itself (checked
 * against the WebAssembly build in the tests). Supported: supervised models with hierarchical softmax and no word
 * n-grams (what lid.176 is), dense or product-quantized input and output matrices; other models fail to load with a
 * `MalformedInputError` that says what is unsupported.
 *
 * The hot path works on typed arrays: the text is encoded once into a reused byte buffer, tokens are hashed in place
 * and their input rows are collected into a reused Int32Array, so predicting allocates nothing per token.
 */

const MAGIC = 793712314;
const FNV_BASIS = 0x811c9dc5 | 0;
const FNV_PRIME = 16777619;
const KSUB = 256; // centroids per product-quantizer subspace (fastText's ksub_)
const LOSS_HS = 1;
const MODEL_SUPERVISED = 3;
const LOSS_NAMES = ['', 'hs', 'ns', 'softmax', 'ova'];
const MODEL_NAMES = ['', 'cbow', 'skipgram', 'supervised'];
const LABEL_PREFIX = [0x5f, 0x5f, 0x6c, 0x61, 0x62, 0x65, 0x6c, 0x5f, 0x5f]; // "__label__"
const EOS = [0x3c, 0x2f, 0x73, 0x3e]; // "</s>"

/** Byte classes of the tokenizer. fastText splits words on these bytes; a newline also ends the line. */
const SPACE = 1;
const NEWLINE = 2;
/** Lead byte of U+2028 and U+2029 (E2 80 A8/A9), which `lid.ts` reads as spaces. */
const MAYBE_LINE_SEPARATOR = 3;
const LINE_LOCAL = new Uint8Array(256);
for (const c of [0x20, 0x0d, 0x09, 0x0b, 0x0c, 0x00]) LINE_LOCAL[c] = SPACE;
LINE_LOCAL[0x0a] = NEWLINE;
/** Line breaks as spaces: `\n`, `\r` and U+2028/2029 separate words, the line ends with the text. */
const BREAKS_AS_SPACES = LINE_LOCAL.slice();
BREAKS_AS_SPACES[0x0a] = SPACE;
BREAKS_AS_SPACES[0xe2] = MAYBE_LINE_SEPARATOR;

/** The training arguments stored at the start of the model file. */
export interface FastTextArgs {
  dim: number;
  ws: number;
  epoch: number;
  minCount: number;
  neg: number;
  wordNgrams: number;
  /** 1 hierarchical softmax, 2 negative sampling, 3 softmax, 4 one-vs-all. */
  loss: number;
  /** 1 cbow, 2 skipgram, 3 supervised. */
  model: number;
  bucket: number;
  minn: number;
  maxn: number;
  lrUpdateRate: number;
  t: number;
}

export interface FastTextPrediction {
  /** The label as the model stores it, e.g. `__label__en`. */
  label: string;
  /** Its probability, a float32 value as fastText computes it. */
  probability: number;
}

/** Little-endian reads with bounds checks: a short file is reported at the byte where it ends. */
class Reader {
  private readonly view: DataView;
  at = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  fail(reason: string, at = this.at): never {
    throw new MalformedInputError(this.file, at, reason);
  }
  need(n: number, what: string): void {
    if (n < 0 || this.at + n > this.bytes.length) this.fail(`truncated fastText model: ${what} needs ${n} bytes, ${this.bytes.length - this.at} left`);
  }
  i32(what: string): number {
    this.need(4, what);
    const v = this.view.getInt32(this.at, true);
    this.at += 4;
    return v;
  }
  i64(what: string): number {
    this.need(8, what);
    const v = this.view.getBigInt64(this.at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} ${v} is out of range`);
    this.at += 8;
    return Number(v);
  }
  f64(what: string): number {
    this.need(8, what);
    const v = this.view.getFloat64(this.at, true);
    this.at += 8;
    return v;
  }
  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.at++]!;
  }
  bool(what: string): boolean {
    const at = this.at;
    const v = this.u8(what);
    if (v > 1) this.fail(`${what} is ${v}, expected a boolean byte`, at);
    return v === 1;
  }
  /** A copy of `n` float32 values (copied so the array is aligned whatever the offset in the file). */
  f32s(n: number, what: string): Float32Array {
    this.need(n * 4, what);
    const out = new Float32Array(n);
    new Uint8Array(out.buffer).set(this.bytes.subarray(this.at, this.at + n * 4));
    this.at += n * 4;
    return out;
  }
  u8s(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
}

/**
 * A matrix as read from the file, decoded: row `i` is `data[i * cols ...]` times `norm[i]` (no norms: dense, or
 * quantized without norms, or already scaled).
 */
interface Rows {
  rows: number;
  cols: number;
  data: Float32Array;
  norm: Float32Array | null;
}

/** A fastText matrix: dense (float32 rows) or product-quantized (centroid codes, optionally a quantized norm per row). */
function readMatrix(r: Reader, quantized: boolean, what: string, scaleRows: boolean): Rows {
  if (!quantized) {
    const rows = r.i64(`${what} rows`);
    const cols = r.i64(`${what} columns`);
    if (rows < 0 || cols <= 0) r.fail(`${what} has ${rows} × ${cols} entries`, r.at - 16);
    return { rows, cols, data: r.f32s(rows * cols, `${what} (${rows} × ${cols} floats)`), norm: null };
  }
  const qnorm = r.bool(`${what} qnorm flag`);
  const rows = r.i64(`${what} rows`);
  const cols = r.i64(`${what} columns`);
  const codesize = r.i32(`${what} code size`);
  if (rows < 0 || cols <= 0) r.fail(`${what} has ${rows} × ${cols} entries`, r.at - 20);
  const codes = r.u8s(codesize, `${what} codes`);
  const pq = readQuantizer(r, `${what} quantizer`);
  if (pq.dim !== cols || codesize !== rows * pq.nsubq) r.fail(`${what}: quantizer of ${pq.dim} dimensions in ${pq.nsubq} parts does not fit ${rows} × ${cols} with ${codesize} codes`);
  // Decoded once: row i, part m is centroid codes[i * nsubq + m] of part m. A decoded row is what fastText adds.
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let m = 0; m < pq.nsubq; m++) {
      const d = m === pq.nsubq - 1 ? pq.lastdsub : pq.dsub;
      const c = pq.offset(m, codes[i * pq.nsubq + m]!);
      for (let k = 0; k < d; k++) data[i * cols + m * pq.dsub + k] = pq.centroids[c + k]!;
    }
  }
  let norm: Float32Array | null = null;
  if (qnorm) {
    const normCodes = r.u8s(rows, `${what} norm codes`);
    const npq = readQuantizer(r, `${what} norm quantizer`);
    if (npq.dim !== 1) r.fail(`${what}: norm quantizer has ${npq.dim} dimensions, expected 1`);
    norm = new Float32Array(rows);
    for (let i = 0; i < rows; i++) norm[i] = npq.centroids[npq.offset(0, normCodes[i]!)]!;
    if (scaleRows) {
      // A row as fastText adds it to a vector: each value the float32 product norm × centroid.
      for (let i = 0; i < rows * cols; i++) data[i] = Math.fround(norm[Math.floor(i / cols)]! * data[i]!);
      norm = null;
    }
  }
  return { rows, cols, data, norm };
}

function readQuantizer(r: Reader, what: string) {
  const at = r.at;
  const dim = r.i32(`${what} dim`);
  const nsubq = r.i32(`${what} parts`);
  const dsub = r.i32(`${what} part size`);
  const lastdsub = r.i32(`${what} last part size`);
  if (dim <= 0 || dsub <= 0 || nsubq !== Math.ceil(dim / dsub) || lastdsub !== (dim % dsub || dsub)) {
    r.fail(`${what}: inconsistent sizes (dim ${dim}, ${nsubq} parts of ${dsub}, last ${lastdsub})`, at);
  }
  const centroids = r.f32s(dim * KSUB, `${what} centroids`);
  // Where centroid i of part m starts (the last part's centroids are lastdsub long).
  const offset = (m: number, i: number) => (m === nsubq - 1 ? m * KSUB * dsub + i * lastdsub : (m * KSUB + i) * dsub);
  return { dim, nsubq, dsub, lastdsub, centroids, offset };
}

/**
 * A loaded fastText model. Predictions reuse the instance's buffers, so results are read before the next call
 * (`topProbability`); each thread loads its own instance.
 */
export class FastTextModel {
  readonly args: FastTextArgs;
  /** Labels in the model's order (the `__label__` prefix kept). */
  readonly labels: readonly string[];
  /** Vocabulary size (words with their own input row). */
  readonly nwords: number;
  /** Probability of the label `topLabel` returned last. */
  topProbability = 0;

  private readonly dim: number;
  private readonly minn: number;
  private readonly maxn: number;
  private readonly bucket: number;
  /** Input rows, decoded and (quantized with norms) scaled as fastText adds them: `dim` float32 per row. */
  private readonly input: Float32Array;
  /** Output rows (dense or decoded centroids) and their norms, for the tree's inner nodes. */
  private readonly output: Float32Array;
  private readonly outputNorm: Float32Array | null;
  /** Huffman tree over the labels (leaves 0..nlabels-1, inner nodes after, root last); -1: none. */
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly nlabels: number;
  /** Input rows of each vocabulary word: `wordRows[wordStart[w] .. wordStart[w + 1]]` (the word's own row first). */
  private readonly wordStart: Int32Array;
  private readonly wordRows: Int32Array;
  /** Open-addressing table from a word's FNV-1a hash to its id, with the word's bytes to compare. */
  private readonly slotWord: Int32Array;
  private readonly slotHash: Int32Array;
  private readonly slotMask: number;
  private readonly wordBytes: Uint8Array;
  private readonly wordOffset: Int32Array;
  /** Kept subword buckets: all (-1 in the file), none (0), or this many, marked in `keptBits`. */
  private readonly pruned: number;
  private readonly keptBits: Uint32Array;
  /** Kept buckets before each 32-bucket word of `keptBits`. */
  private readonly keptBefore: Int32Array;
  private readonly eosId: number;

  // Reused per call (one instance serves one thread).
  private bytes = new Uint8Array(4096);
  private ids = new Int32Array(4096);
  private readonly hidden: Float32Array;
  private readonly encoder = new TextEncoder();
  private k = 1;
  private logThreshold = 0;
  private heapScore: Float64Array = new Float64Array(2);
  private heapNode: Int32Array = new Int32Array(2);
  private heapSize = 0;

  /** Reads a model file (`.bin` or `.ftz`). */
  static load(file: string): FastTextModel {
    return new FastTextModel(readFileSync(file), file);
  }

  /** Reads a model from its bytes; `file` names it in errors. */
  constructor(data: Uint8Array, file = '<fastText model>') {
    const r = new Reader(data, file);
    if (data.length < 8 || r.i32('magic') !== MAGIC) r.fail('not a fastText model (wrong magic number)', 0);
    const version = r.i32('version');
    if (version !== 11 && version !== 12) r.fail(`fastText model version ${version} is not supported (11 or 12 are)`, 4);
    const argsAt = r.at;
    const a: FastTextArgs = {
      dim: r.i32('dim'),
      ws: r.i32('ws'),
      epoch: r.i32('epoch'),
      minCount: r.i32('minCount'),
      neg: r.i32('neg'),
      wordNgrams: r.i32('wordNgrams'),
      loss: r.i32('loss'),
      model: r.i32('model'),
      bucket: r.i32('bucket'),
      minn: r.i32('minn'),
      maxn: r.i32('maxn'),
      lrUpdateRate: r.i32('lrUpdateRate'),
      t: r.f64('t'),
    };
    // fastText reads version-11 supervised models without character n-grams.
    if (version === 11 && a.model === MODEL_SUPERVISED) a.maxn = 0;
    if (a.model !== MODEL_SUPERVISED) r.fail(`unsupported fastText model: ${MODEL_NAMES[a.model] ?? a.model} (only supervised classifiers are implemented)`, argsAt + 28);
    if (a.loss !== LOSS_HS) r.fail(`unsupported fastText loss: ${LOSS_NAMES[a.loss] ?? a.loss} (only hierarchical softmax is implemented)`, argsAt + 24);
    if (a.wordNgrams > 1) r.fail(`unsupported fastText model: wordNgrams ${a.wordNgrams} (only 1 is implemented)`, argsAt + 20);
    if (a.dim <= 0 || a.dim > 4096 || a.bucket < 0 || a.minn < 0 || a.maxn > 64 || (a.maxn > 0 && a.bucket === 0)) r.fail('implausible fastText arguments (dim, bucket, minn or maxn)', argsAt);
    this.args = a;
    this.dim = a.dim;
    this.minn = a.minn;
    this.maxn = a.maxn;
    this.bucket = a.bucket;

    // Dictionary: words then labels, each a NUL-terminated string, an int64 count and a type byte.
    const dictAt = r.at;
    const size = r.i32('dictionary size');
    const nwords = r.i32('word count');
    const nlabels = r.i32('label count');
    r.i64('token count');
    const pruneSize = r.i64('pruned bucket count');
    if (nwords < 0 || nlabels < 1 || size !== nwords + nlabels) r.fail(`dictionary of ${size} entries with ${nwords} words and ${nlabels} labels`, dictAt);
    if (pruneSize < -1) r.fail(`pruned bucket count ${pruneSize}`, r.at - 8);
    const offsets = new Int32Array(size + 1);
    const starts = new Int32Array(size);
    const counts = new Float64Array(nlabels);
    const labels: string[] = [];
    const decoder = new TextDecoder();
    for (let i = 0; i < size; i++) {
      const end = data.indexOf(0, r.at);
      if (end < 0) r.fail(`truncated fastText model: dictionary entry ${i} has no terminating NUL`);
      starts[i] = r.at;
      offsets[i + 1] = offsets[i]! + (end - r.at);
      r.at = end + 1;
      const count = r.i64(`count of dictionary entry ${i}`);
      const typeAt = r.at;
      const type = r.u8(`type of dictionary entry ${i}`);
      if (type !== (i < nwords ? 0 : 1)) r.fail(`dictionary entry ${i} has type ${type}, expected ${i < nwords ? 'word (0)' : 'label (1)'}`, typeAt);
      if (i >= nwords) {
        counts[i - nwords] = count;
        labels.push(decoder.decode(data.subarray(starts[i]!, end)));
      }
    }
    this.nwords = nwords;
    this.nlabels = nlabels;
    this.labels = labels;
    this.wordBytes = new Uint8Array(offsets[nwords]!);
    this.wordOffset = offsets.slice(0, nwords + 1);
    for (let i = 0; i < nwords; i++) this.wordBytes.set(data.subarray(starts[i]!, starts[i]! + offsets[i + 1]! - offsets[i]!), offsets[i]!);

    // Kept subword buckets (pruned models, e.g. every .ftz): pairs of bucket and index among the kept rows after
    // the words (a later pair for the same bucket wins, as in fastText's map).
    const pruneAt = r.at;
    r.need(Math.max(0, pruneSize) * 8, `${pruneSize} pruned bucket pairs`);
    this.pruned = pruneSize;
    // The kept buckets as a bitmap (250 KB for 2M buckets, so the test of every n-gram, most of which were pruned,
    // stays in cache), and their rows reordered by bucket: a kept bucket's row is its rank among the kept ones,
    // counted from the bitmap, with no table of rows to look up.
    this.keptBits = new Uint32Array(pruneSize > 0 ? Math.ceil(a.bucket / 32) : 0);
    this.keptBefore = new Int32Array(this.keptBits.length);
    const keptIndex = pruneSize > 0 ? new Int32Array(a.bucket) : null;
    for (let i = 0; i < pruneSize; i++) {
      const bucket = r.i32('pruned bucket');
      const index = r.i32('pruned bucket index');
      if (bucket < 0 || bucket >= a.bucket || index < 0) r.fail(`pruned bucket ${bucket} → ${index} is out of range`, r.at - 8);
      keptIndex![bucket] = index;
      this.keptBits[bucket >>> 5]! |= 1 << (bucket & 31);
    }

    const quantInput = r.bool('quantized-input flag');
    const input = readMatrix(r, quantInput, 'input matrix', true);
    if (!quantInput && pruneSize >= 0) r.fail('a pruned dictionary with a dense input matrix (fastText refuses this file too)', pruneAt);
    const qout = r.bool('quantized-output flag');
    // fastText honours the output flag only when the input is quantized.
    const output = readMatrix(r, quantInput && qout, 'output matrix', false);
    if (r.at !== data.length) r.fail(`${data.length - r.at} unexpected bytes after the output matrix`);
    if (input.cols !== a.dim || output.cols !== a.dim) r.fail(`matrix widths ${input.cols} and ${output.cols} differ from dim ${a.dim}`);
    const needRows = pruneSize < 0 && a.maxn > 0 ? nwords + a.bucket : nwords;
    if (input.rows < needRows) r.fail(`input matrix has ${input.rows} rows, the dictionary needs ${needRows}`);
    if (output.rows < nlabels - 1) r.fail(`output matrix has ${output.rows} rows, ${nlabels} labels need ${nlabels - 1}`);
    if (keptIndex) {
      let kept = 0;
      for (const bits of this.keptBits) kept += popcount(bits);
      const rows = new Float32Array((nwords + kept) * a.dim);
      rows.set(input.data.subarray(0, nwords * a.dim));
      // Walk the set bits only (42765 of 2M buckets in lid.176).
      let rank = 0;
      for (let w = 0; w < this.keptBits.length; w++) {
        this.keptBefore[w] = rank;
        for (let bits = this.keptBits[w]!; bits !== 0; bits &= bits - 1) {
          const b = w * 32 + 31 - Math.clz32(bits & -bits);
          const index = keptIndex[b]!;
          if (nwords + index >= input.rows) r.fail(`pruned bucket ${b} → ${index} is past the input matrix's ${input.rows} rows`, pruneAt);
          for (let j = 0, from = (nwords + index) * a.dim, to = (nwords + rank) * a.dim; j < a.dim; j++) rows[to + j] = input.data[from + j]!;
          rank++;
        }
      }
      this.input = rows;
    } else {
      this.input = input.data;
    }
    this.output = output.data;
    this.outputNorm = output.norm;

    [this.left, this.right] = huffmanTree(counts);

    // Word lookup table, sized for a load of at most 1/2.
    let cap = 16;
    while (cap < nwords * 2) cap *= 2;
    this.slotMask = cap - 1;
    this.slotWord = new Int32Array(cap).fill(-1);
    this.slotHash = new Int32Array(cap);
    for (let w = 0; w < nwords; w++) {
      const h = fnv(this.wordBytes, this.wordOffset[w]!, this.wordOffset[w + 1]!);
      let s = hashSlot(h) & this.slotMask;
      while (this.slotWord[s] !== -1) s = (s + 1) & this.slotMask;
      this.slotWord[s] = w;
      this.slotHash[s] = h;
    }
    this.eosId = this.lookup(new Uint8Array(EOS), 0, 4, fnv(new Uint8Array(EOS), 0, 4));

    // Each word's rows: its own, then its character n-grams (none for the end-of-sentence token).
    const rows: number[] = [];
    const wordStart = new Int32Array(nwords + 1);
    let scratch = new Uint8Array(64);
    for (let w = 0; w < nwords; w++) {
      rows.push(w);
      const len = this.wordOffset[w + 1]! - this.wordOffset[w]!;
      if (w !== this.eosId) {
        if (scratch.length < len + 2) scratch = new Uint8Array(len * 2 + 2);
        scratch[0] = 0x3c;
        scratch.set(this.wordBytes.subarray(this.wordOffset[w]!, this.wordOffset[w + 1]!), 1);
        scratch[len + 1] = 0x3e;
        this.reserveIds((len + 2) * (this.maxn + 1) + 2);
        const n = this.subwords(scratch, 0, len + 2, 0);
        for (let i = 0; i < n; i++) rows.push(this.ids[i]!);
      }
      wordStart[w + 1] = rows.length;
    }
    this.wordStart = wordStart;
    this.wordRows = Int32Array.from(rows);
    this.hidden = new Float32Array(a.dim);
  }

  /**
   * The `k` most likely labels of a line of text, as fastText's `predict` gives them (the Python binding and the
   * WebAssembly build): the text up to its first newline, then the end-of-sentence token, labels below `threshold`
   * left out, most likely first. Empty only when no word of the line has an input row (never with lid.176, whose
   * end-of-sentence token has one).
   */
  predict(text: string, k = 1, threshold = 0): FastTextPrediction[] {
    return this.predictEncoded(this.encode(text, false), LINE_LOCAL, k, threshold);
  }

  /** `predict` for UTF-8 bytes (passed to fastText as they are, valid UTF-8 or not). */
  predictBytes(bytes: Uint8Array, k = 1, threshold = 0): FastTextPrediction[] {
    this.reserveBytes(bytes.length);
    this.bytes.set(bytes, 1);
    return this.predictEncoded(bytes.length + 1, LINE_LOCAL, k, threshold);
  }

  /**
   * The most likely label of the first `maxChars` UTF-16 units of `text`, line breaks (`\n`, `\r`, U+2028, U+2029)
   * read as spaces, as `predict` of that text with its line breaks replaced would give it, allocating nothing per word:
   * the label's index in `labels` (-1: no prediction), its probability in `topProbability`.
   */
  topLabel(text: string, maxChars = Infinity): number {
    const input = text.length > maxChars ? text.slice(0, maxChars) : text;
    const end = this.encode(input, true);
    this.k = 1;
    this.logThreshold = LOG_ZERO_THRESHOLD;
    this.heapSize = 0;
    if (!this.hiddenOf(end, BREAKS_AS_SPACES)) return -1;
    this.dfs(2 * this.nlabels - 2, 0);
    if (this.heapSize === 0) return -1;
    this.topProbability = Math.fround(Math.exp(this.heapScore[0]!));
    return this.heapNode[0]!;
  }

  private predictEncoded(end: number, classes: Uint8Array, k: number, threshold: number): FastTextPrediction[] {
    if (!(k >= 1)) throw new RangeError(`k=${k} is invalid: expected 1 or more`);
    k = Math.min(Math.floor(k), this.nlabels);
    if (this.heapScore.length < k + 1) {
      this.heapScore = new Float64Array(k + 1);
      this.heapNode = new Int32Array(k + 1);
    }
    this.k = k;
    this.logThreshold = stdLog(Math.fround(threshold));
    this.heapSize = 0;
    if (!this.hiddenOf(end, classes)) return [];
    this.dfs(2 * this.nlabels - 2, 0);
    const out: Array<[number, number]> = [];
    for (let i = 0; i < this.heapSize; i++) out.push([this.heapScore[i]!, this.heapNode[i]!]);
    // Most likely first (ties: either order; fastText leaves them to its heap).
    out.sort((x, y) => y[0] - x[0]);
    return out.map(([score, node]) => ({ label: this.labels[node]!, probability: Math.fround(Math.exp(score)) }));
  }

  /**
   * Encodes `text` as UTF-8 into `bytes[1..]` (byte 0 stays free for the `<` of the first word) and returns the end.
   * Strings with lone surrogates are encoded as Emscripten's `stringToUTF8` does, which is what the WebAssembly
   * build saw: a surrogate takes the next code unit as its pair, whatever it is. With `breaksAsSpaces`, line breaks
   * are first replaced the way `lid.ts` always did (runs of them by one space), which changes that pairing.
   */
  private encode(text: string, breaksAsSpaces: boolean): number {
    this.reserveBytes(text.length * 3 + 4);
    if ((text as unknown as { isWellFormed(): boolean }).isWellFormed()) {
      return 1 + this.encoder.encodeInto(text, this.bytesView).written;
    }
    if (breaksAsSpaces) text = text.replace(/[\r\n\t\v\f\u2028\u2029]+/g, ' ');
    const b = this.bytes;
    let o = 1;
    for (let i = 0; i < text.length; i++) {
      let u = text.charCodeAt(i);
      if (u >= 0xd800 && u <= 0xdfff) u = 0x10000 + ((u & 0x3ff) << 10) + (text.charCodeAt(++i) & 0x3ff); // NaN & x is 0 at the end
      if (u < 0x80) b[o++] = u;
      else if (u < 0x800) {
        b[o++] = 0xc0 | (u >> 6);
        b[o++] = 0x80 | (u & 63);
      } else if (u < 0x10000) {
        b[o++] = 0xe0 | (u >> 12);
        b[o++] = 0x80 | ((u >> 6) & 63);
        b[o++] = 0x80 | (u & 63);
      } else {
        b[o++] = 0xf0 | (u >> 18);
        b[o++] = 0x80 | ((u >> 12) & 63);
        b[o++] = 0x80 | ((u >> 6) & 63);
        b[o++] = 0x80 | (u & 63);
      }
    }
    return o;
  }

  private bytesView = this.bytes.subarray(1);
  private reserveBytes(n: number): void {
    // Room for the text after byte 0 and for the `>` written after the last word.
    if (this.bytes.length < n + 2) {
      this.bytes = new Uint8Array(Math.max(n + 2, this.bytes.length * 2));
      this.bytesView = this.bytes.subarray(1);
    }
  }
  private reserveIds(n: number): void {
    if (this.ids.length < n) this.ids = new Int32Array(Math.max(n, this.ids.length * 2));
  }

  /**
   * Reads the words of `bytes[1..end)` as fastText's `getLine` does, collects their input rows in `ids` and
   * averages those rows into `hidden`. Returns false when there is no row (fastText then predicts nothing).
   */
  private hiddenOf(end: number, classes: Uint8Array): boolean {
    const b = this.bytes;
    // A word of C characters and its separator (C + 1 bytes or more) adds at most 1 + (C + 2) × (maxn - minn + 1)
    // rows: below 2 × maxn + 3 per byte.
    this.reserveIds(end * (2 * Math.max(this.maxn, 0) + 3) + 8);
    let n = 0;
    let i = 1;
    for (;;) {
      // Skip separators; a newline (when it is one) ends the line.
      let c = 0;
      let cls = 0;
      while (i < end) {
        c = b[i]!;
        cls = classes[c]!;
        if (cls === 0 || (cls === MAYBE_LINE_SEPARATOR && !isLineSeparator(b, i, end))) break;
        if (cls === NEWLINE) {
          i = end;
          break;
        }
        i += cls === MAYBE_LINE_SEPARATOR ? 3 : 1;
      }
      if (i >= end) break;
      // The word, hashed as it is read.
      const start = i;
      let h = FNV_BASIS;
      while (i < end) {
        c = b[i]!;
        cls = classes[c]!;
        if (cls !== 0 && (cls !== MAYBE_LINE_SEPARATOR || isLineSeparator(b, i, end))) break;
        h = Math.imul(h ^ ((c << 24) >> 24), FNV_PRIME);
        i++;
      }
      const w = this.lookup(b, start, i, h);
      if (w >= 0) {
        const ws = this.wordStart;
        const wr = this.wordRows;
        for (let j = ws[w]!, e = ws[w + 1]!; j < e; j++) this.ids[n++] = wr[j]!;
        if (w === this.eosId) return this.average(n); // a literal `</s>` ends the line like a newline
      } else if (!startsWith(b, start, i, LABEL_PREFIX)) {
        // Out of the vocabulary: its character n-grams, of `<word>` written around it in place (the byte before the
        // word was a separator or byte 0, the byte after it is put back).
        if (this.eosId < 0 && i - start === 4 && startsWith(b, start, i, EOS)) return this.average(n);
        const after = b[i]!;
        b[start - 1] = 0x3c;
        b[i] = 0x3e;
        n = this.subwords(b, start - 1, i + 1, n);
        b[i] = after;
      }
      // Labels (`__label__…`) are not words: fastText skips them.
    }
    // The end-of-sentence token the newline after the text makes.
    if (this.eosId >= 0) this.ids[n++] = this.eosId;
    return this.average(n);
  }

  /** The word id of `b[start..end)` with FNV-1a hash `h`, or -1. */
  private lookup(b: Uint8Array, start: number, end: number, h: number): number {
    const mask = this.slotMask;
    const slotWord = this.slotWord;
    const len = end - start;
    for (let s = hashSlot(h) & mask; ; s = (s + 1) & mask) {
      const w = slotWord[s]!;
      if (w < 0) return -1;
      if (this.slotHash[s] !== h) continue;
      const o = this.wordOffset[w]!;
      if (this.wordOffset[w + 1]! - o !== len) continue;
      let j = 0;
      while (j < len && this.wordBytes[o + j] === b[start + j]) j++;
      if (j === len) return w;
    }
  }

  /**
   * Appends to `ids` (from `n`) the input rows of the character n-grams of `b[start..end)` (a word with its `<` and
   * `>`): every run of minn..maxn UTF-8 characters, hashed with FNV-1a over its bytes, modulo the buckets, kept if
   * the model kept that bucket. Returns the new count.
   */
  private subwords(b: Uint8Array, start: number, end: number, n: number): number {
    const { minn, maxn, bucket, pruned, keptBits, keptBefore, nwords } = this;
    const ids = this.ids;
    if (maxn <= 0 || pruned === 0) return n;
    for (let i = start; i < end; i++) {
      if ((b[i]! & 0xc0) === 0x80) continue; // n-grams start at a character, not inside one
      let h = FNV_BASIS;
      let j = i;
      for (let len = 1; j < end && len <= maxn; len++) {
        h = Math.imul(h ^ ((b[j++]! << 24) >> 24), FNV_PRIME);
        while (j < end && (b[j]! & 0xc0) === 0x80) h = Math.imul(h ^ ((b[j++]! << 24) >> 24), FNV_PRIME);
        // A single character only counts inside the word, never the lone `<` or `>`.
        if (len >= minn && !(len === 1 && (i === start || j === end))) {
          // The remainder through a float division: V8 compiles `%` of a uint32 above 2^31 to a slow fmod call.
          const u = h >>> 0;
          const id = u - Math.floor(u / bucket) * bucket;
          if (pruned < 0) {
            ids[n++] = nwords + id;
          } else {
            const bits = keptBits[id >>> 5]!;
            const bit = id & 31;
            if ((bits >>> bit) & 1) ids[n++] = nwords + keptBefore[id >>> 5]! + popcount(bits & ~(-1 << bit));
          }
        }
      }
    }
    return n;
  }

  /** hidden = the float32 mean of the `n` collected input rows, summed in order as fastText does. */
  private average(n: number): boolean {
    if (n === 0) return false;
    const hidden = this.hidden;
    const input = this.input;
    const ids = this.ids;
    const dim = this.dim;
    hidden.fill(0);
    if (dim === 16) {
      // lid.176's width, unrolled; float32 locals keep fastText's rounding after every addition.
      let h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0, h5 = 0, h6 = 0, h7 = 0;
      let h8 = 0, h9 = 0, h10 = 0, h11 = 0, h12 = 0, h13 = 0, h14 = 0, h15 = 0;
      for (let k = 0; k < n; k++) {
        const o = ids[k]! << 4;
        h0 = Math.fround(h0 + input[o]!);
        h1 = Math.fround(h1 + input[o + 1]!);
        h2 = Math.fround(h2 + input[o + 2]!);
        h3 = Math.fround(h3 + input[o + 3]!);
        h4 = Math.fround(h4 + input[o + 4]!);
        h5 = Math.fround(h5 + input[o + 5]!);
        h6 = Math.fround(h6 + input[o + 6]!);
        h7 = Math.fround(h7 + input[o + 7]!);
        h8 = Math.fround(h8 + input[o + 8]!);
        h9 = Math.fround(h9 + input[o + 9]!);
        h10 = Math.fround(h10 + input[o + 10]!);
        h11 = Math.fround(h11 + input[o + 11]!);
        h12 = Math.fround(h12 + input[o + 12]!);
        h13 = Math.fround(h13 + input[o + 13]!);
        h14 = Math.fround(h14 + input[o + 14]!);
        h15 = Math.fround(h15 + input[o + 15]!);
      }
      hidden[0] = h0; hidden[1] = h1; hidden[2] = h2; hidden[3] = h3; hidden[4] = h4; hidden[5] = h5; hidden[6] = h6; hidden[7] = h7;
      hidden[8] = h8; hidden[9] = h9; hidden[10] = h10; hidden[11] = h11; hidden[12] = h12; hidden[13] = h13; hidden[14] = h14; hidden[15] = h15;
    } else {
      for (let k = 0; k < n; k++) {
        const o = ids[k]! * dim;
        // A Float32Array element rounds on every store: float32 addition.
        for (let j = 0; j < dim; j++) hidden[j] = hidden[j]! + input[o + j]!;
      }
    }
    // fastText multiplies by 1/n as a float32, not divides.
    const scale = Math.fround(1 / n);
    for (let j = 0; j < dim; j++) hidden[j] = hidden[j]! * scale;
    return true;
  }

  /**
   * fastText's depth-first search of the label tree: the score of a node is the float32 sum of log-probabilities
   * on its path; subtrees below the threshold or below the k-th best leaf found so far are skipped.
   */
  private dfs(node: number, score: number): void {
    if (score < this.logThreshold) return;
    const k = this.k;
    if (this.heapSize === k && score < this.heapScore[0]!) return;
    const l = this.left[node]!;
    if (l < 0) {
      this.push(score, node);
      return;
    }
    // The node's probability of going right: sigmoid of the dot product, in float32 (expf, then 1 + e, then 1 / x).
    const f = Math.fround(1 / Math.fround(1 + Math.fround(Math.exp(-this.dotOutput(node - this.nlabels)))));
    this.dfs(l, Math.fround(score + stdLog(Math.fround(1 - f))));
    this.dfs(this.right[node]!, Math.fround(score + stdLog(f)));
  }

  /** Output row `i` · hidden, float32 products summed in order (times the row's norm when quantized). */
  private dotOutput(i: number): number {
    const out = this.output;
    const hidden = this.hidden;
    const dim = this.dim;
    const o = i * dim;
    let d = 0;
    for (let j = 0; j < dim; j++) d = Math.fround(d + Math.fround(out[o + j]! * hidden[j]!));
    return this.outputNorm ? Math.fround(d * this.outputNorm[i]!) : d;
  }

  /**
   * Keeps the k best leaves in a min-heap (heapScore[0] the worst kept), as fastText's std::push_heap / pop_heap
   * do; a leaf that ties the worst kept one replaces it, which is what their order gives for k = 1.
   */
  private push(score: number, node: number): void {
    const hs = this.heapScore;
    const hn = this.heapNode;
    if (this.k === 1) {
      hs[0] = score;
      hn[0] = node;
      this.heapSize = 1;
      return;
    }
    // Sift up.
    let i = this.heapSize++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!(hs[p]! > score)) break;
      hs[i] = hs[p]!;
      hn[i] = hn[p]!;
      i = p;
    }
    hs[i] = score;
    hn[i] = node;
    if (this.heapSize > this.k) {
      // Drop the worst (the root): move the last element down from the root.
      const n = --this.heapSize;
      const ls = hs[n]!;
      const ln = hn[n]!;
      let j = 0;
      for (;;) {
        let c = 2 * j + 1;
        if (c >= n) break;
        if (c + 1 < n && hs[c + 1]! < hs[c]!) c++;
        if (!(hs[c]! < ls)) break;
        hs[j] = hs[c]!;
        hn[j] = hn[c]!;
        j = c;
      }
      hs[j] = ls;
      hn[j] = ln;
    }
  }
}

/** fastText's log with its 1e-5 floor: the float32 argument plus the double 1e-5, logged in double, stored as float32. */
function stdLog(x: number): number {
  return Math.fround(Math.log(x + 1e-5));
}
const LOG_ZERO_THRESHOLD = stdLog(0);

/** fastText's string hash: 32-bit FNV-1a over the bytes, each byte sign-extended first (C++ `char` is signed). */
function fnv(b: Uint8Array, start: number, end: number): number {
  let h = FNV_BASIS;
  for (let i = start; i < end; i++) h = Math.imul(h ^ ((b[i]! << 24) >> 24), FNV_PRIME);
  return h;
}

/** Spreads a hash over the table's slots (Fibonacci hashing: the high bits of the product, folded down). */
function hashSlot(h: number): number {
  const x = Math.imul(h, 0x9e3779b1);
  return x ^ (x >>> 15);
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

function startsWith(b: Uint8Array, start: number, end: number, prefix: readonly number[]): boolean {
  if (end - start < prefix.length) return false;
  for (let j = 0; j < prefix.length; j++) if (b[start + j] !== prefix[j]) return false;
  return true;
}

/** U+2028 or U+2029 at `i` (E2 80 A8 or E2 80 A9). */
function isLineSeparator(b: Uint8Array, i: number, end: number): boolean {
  return i + 2 < end && b[i + 1] === 0x80 && (b[i + 2] === 0xa8 || b[i + 2] === 0xa9);
}

/**
 * fastText's Huffman tree over the label counts (sorted most frequent first in the file): leaves 0..n-1, inner nodes
 * n..2n-2 built by repeatedly joining the two least-counted nodes, the root last. Returns the children arrays.
 */
function huffmanTree(counts: Float64Array): [Int32Array, Int32Array] {
  const n = counts.length;
  const size = 2 * n - 1;
  const left = new Int32Array(size).fill(-1);
  const right = new Int32Array(size).fill(-1);
  const count = new Float64Array(size).fill(1e15);
  count.set(counts);
  let leaf = n - 1;
  let node = n;
  for (let i = n; i < size; i++) {
    const pick = () => (leaf >= 0 && count[leaf]! < count[node]! ? leaf-- : node++);
    const a = pick();
    const b = pick();
    left[i] = a;
    right[i] = b;
    count[i] = count[a]! + count[b]!;
  }
  return [left, right];
}
