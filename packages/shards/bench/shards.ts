/**
 * Shard throughput against anchors measured in the same run (median of 5):
 * - write: writeDocuments vs plain apache-arrow (vectorFromArray + tableToIPC + writeFile) and vs writing the raw
 *   UTF-8 text alone;
 * - read: readDocuments vs tableFromIPC + get() over every row;
 * - tokens: writeTokenizedDocuments / readTokenizedDocuments vs writing/reading the raw Uint16 ids.
 * Run: npx tsx --conditions=@pretext/source bench/shards.ts [MiB of text, default 32]
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Field, List, Uint16, tableFromIPC, tableToIPC, Table, vectorFromArray, Utf8 } from 'apache-arrow';
import type { Document, TokenizedDocument } from '@pretext/core';
import { readDocuments, readTokenizedDocuments, writeDocuments, writeTokenizedDocuments } from '../src/index.js';

const mib = Number(process.argv[2] ?? 32);
const dir = await mkdtemp(path.join(tmpdir(), 'pretext-bench-'));

// Documents: paragraphs of varied English-like text, ~4 kB each.
const words = 'the whale sea ship Ahab Ishmael harpoon white ocean captain deck sail wind storm naïve Straße'.split(' ');
const docs: Document[] = [];
let bytes = 0;
for (let i = 0; bytes < mib * 1024 * 1024; i++) {
  const text = Array.from({ length: 700 }, (_, j) => words[(i * 31 + j * 7) % words.length]).join(' ');
  docs.push({ id: `doc-${i}`, text, source: 'bench', meta: { title: `T${i}` } });
  bytes += Buffer.byteLength(text);
}
const tokDocs: TokenizedDocument[] = docs.map((d, i) => ({ id: d.id, ids: Int32Array.from({ length: 1000 }, (_, j) => (i * 7919 + j * 104729) % 50257) }));
const tokens = tokDocs.length * 1000;

async function time(fn: () => Promise<unknown>): Promise<number> {
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    await fn();
    runs.push(performance.now() - t);
  }
  return runs.sort((a, b) => a - b)[2]!;
}

const mbps = (ms: number) => (bytes / 1024 / 1024 / (ms / 1000)).toFixed(0);
const out = (name: string) => path.join(dir, name);

const writeOurs = await time(() => writeDocuments(docs, { outDir: out('ours'), metaFields: [{ name: 'title', type: 'utf8' }] }));
const writePlainArrow = await time(async () => {
  const table = new Table({
    id: vectorFromArray(docs.map((d) => d.id), new Utf8()),
    text: vectorFromArray(docs.map((d) => d.text), new Utf8()),
    source: vectorFromArray(docs.map((d) => d.source), new Utf8()),
    title: vectorFromArray(docs.map((d) => d.meta!.title as string), new Utf8()),
  });
  await writeFile(out('plain.arrow'), tableToIPC(table, 'file'));
});
const writeRaw = await time(() => writeFile(out('raw.txt'), docs.map((d) => d.text).join('\n')));

const readOurs = await time(async () => {
  let n = 0;
  for await (const d of readDocuments(out('ours'))) n += d.text.length;
  return n;
});
const readPlainArrow = await time(async () => {
  const t = tableFromIPC(await readFile(out('plain.arrow')));
  const text = t.getChild('text')!;
  let n = 0;
  for (let i = 0; i < t.numRows; i++) n += (text.get(i) as string).length;
  return n;
});

const writeTok = await time(() => writeTokenizedDocuments(tokDocs, { outDir: out('tok'), vocabSize: 50257 }));
const writeTokPlain = await time(async () => {
  const type = new List(new Field('item', new Uint16(), false));
  const table = new Table({ input_ids: vectorFromArray(tokDocs.map((d) => Uint16Array.from(d.ids)), type) });
  await writeFile(out('tok.arrow'), tableToIPC(table, 'file'));
});
const writeTokRaw = await time(async () => {
  const flat = new Uint16Array(tokens);
  tokDocs.forEach((d, i) => flat.set(d.ids, i * 1000));
  await writeFile(out('tok.bin'), flat);
});
const readTok = await time(async () => {
  let n = 0;
  for await (const d of readTokenizedDocuments(out('tok'))) n += d.ids.length;
  return n;
});
const readTokRaw = await time(async () => {
  const flat = new Uint16Array((await readFile(out('tok.bin'))).buffer.slice(0));
  return Int32Array.from(flat).length;
});

const mtok = (ms: number) => (tokens / 1e6 / (ms / 1000)).toFixed(1);
console.log(`documents: ${docs.length}, ${(bytes / 1024 / 1024).toFixed(0)} MiB of text; tokens: ${(tokens / 1e6).toFixed(1)} M (median of 5 runs)`);
console.log(`write documents   ${mbps(writeOurs)} MiB/s   plain apache-arrow ${mbps(writePlainArrow)} MiB/s (ours ${(writePlainArrow / writeOurs).toFixed(2)}x)   raw text ${mbps(writeRaw)} MiB/s (ours ${(writeRaw / writeOurs).toFixed(2)}x)`);
console.log(`read documents    ${mbps(readOurs)} MiB/s   tableFromIPC + get ${mbps(readPlainArrow)} MiB/s (ours ${(readPlainArrow / readOurs).toFixed(2)}x)`);
console.log(`write tokens      ${mtok(writeTok)} Mtok/s   plain apache-arrow ${mtok(writeTokPlain)} Mtok/s (ours ${(writeTokPlain / writeTok).toFixed(2)}x)   raw u16 ${mtok(writeTokRaw)} Mtok/s (ours ${(writeTokRaw / writeTok).toFixed(2)}x)`);
console.log(`read tokens       ${mtok(readTok)} Mtok/s   raw u16 → Int32Array ${mtok(readTokRaw)} Mtok/s (ours ${(readTokRaw / readTok).toFixed(2)}x)`);
await rm(dir, { recursive: true, force: true });
