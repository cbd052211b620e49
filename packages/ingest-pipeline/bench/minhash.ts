/**
 * MinHash signatures: the WebAssembly SIMD kernel against the JavaScript loop, on the shingles of ~4400 real texts
 * (the WET-format file of distinct texts, see `distinctWetFile`), with the default 14 × 8 functions. Interleaved,
 * CPU time per document, medians of R runs.
 * Run: npx tsx --conditions=@pretext/source bench/minhash.ts [--repeats R]
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { readCommonCrawl } from '@pretext/ingest-commoncrawl';
import { median, numberOption, sharedCorporaDir } from '@pretext/test-fixtures';
import { MinHasher, normalizeForDedup } from '../src/minhash.js';
import { distinctWetFile } from './inputs.js';

const REPEATS = numberOption('repeats', 7, process.argv.slice(2));
const corpora = sharedCorporaDir();
if (!existsSync(corpora)) throw new Error(`${corpora} is missing: the benchmark reads the shared samples`);
const tmp = await mkdtemp(path.join(tmpdir(), 'pretext-minhash-'));
try {
  const { file } = await distinctWetFile(corpora, path.join(tmp, 'distinct.warc.wet.gz'));
  const simd = new MinHasher();
  const js = new MinHasher({ simd: false });
  const shingles: Uint32Array[] = [];
  for await (const d of readCommonCrawl(file)) shingles.push(simd.shingles(normalizeForDedup(d.text)));
  const perDoc = (h: MinHasher) => {
    const c0 = process.cpuUsage();
    for (const s of shingles) h.signatureOf(s);
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / shingles.length;
  };
  perDoc(js);
  perDoc(simd);
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    a.push(perDoc(js));
    b.push(perDoc(simd));
  }
  const mean = shingles.reduce((n, s) => n + s.length, 0) / shingles.length;
  console.log(`load ${loadavg().map((x) => x.toFixed(1)).join(' ')}; ${shingles.length} documents, ${mean.toFixed(0)} shingles each`);
  console.table([
    { signature: 'JavaScript loop', 'µs/doc': median(a).toFixed(1), ratio: '1.00×' },
    { signature: 'WebAssembly SIMD', 'µs/doc': median(b).toFixed(1), ratio: `${(median(a) / median(b)).toFixed(2)}×` },
  ]);
} finally {
  await rm(tmp, { recursive: true, force: true });
}
