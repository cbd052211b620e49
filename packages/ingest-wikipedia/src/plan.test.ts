import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findMarkers } from './bz2.js';
import { ENWIKI, LTGWIKI, collect, sample, type Collected } from './corpora.test-helper.js';
import { planWikipedia, readIndexOffsets, type WorkUnit } from './index.js';

let dir: string;
let ltg: Collected;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pretext-wikiplan-'));
  ltg = await collect(sample(LTGWIKI));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function contiguous(units: WorkUnit[], size: number): void {
  expect(units[0]!.start).toBe(0);
  expect(units.at(-1)!.end).toBe(size);
  units.forEach((u, i) => {
    expect(u.index).toBe(i);
    if (i > 0) expect(u.start).toBe(units[i - 1]!.end);
  });
}

async function readUnits(units: WorkUnit[]): Promise<Collected> {
  const all: Collected = { docs: [], skips: {}, skippedTitles: [], errors: [] };
  for (const u of units) {
    const r = await collect(u);
    all.docs.push(...r.docs);
    all.errors.push(...r.errors);
    for (const [k, v] of Object.entries(r.skips)) all.skips[k as keyof Collected['skips']] = (all.skips[k as keyof Collected['skips']] ?? 0) + v;
  }
  return all;
}

function bzip2(data: Buffer): Buffer {
  const out = spawnSync('bzip2', ['-9', '-c'], { input: data, maxBuffer: 1 << 30 });
  if (out.error || out.status !== 0) throw new Error(`this test builds a multistream dump with the bzip2 program, which failed: ${out.error?.message ?? out.stderr}`);
  return out.stdout;
}

describe('planWikipedia', () => {
  it('splits a single-stream bz2 dump at block starts; the units read exactly the whole file', async () => {
    const file = sample(ENWIKI);
    const size = (await stat(file)).size;
    const units = await planWikipedia(file, { targetBytes: 400_000 });
    expect(units.length).toBeGreaterThanOrEqual(3);
    contiguous(units, size);
    const bytes = await readFile(file);
    const blocks = findMarkers(bytes, 0, bytes.length * 8)
      .filter((m) => m.kind === 'block')
      .map((m) => m.bit >>> 3);
    expect(blocks).toHaveLength(7);
    for (const u of units.slice(1)) expect(blocks).toContain(u.start);
    const whole = await collect(file);
    const parts = await readUnits(units);
    expect(parts.errors).toEqual([]);
    expect(parts.docs.map((d) => d.id)).toEqual(whole.docs.map((d) => d.id));
    expect(parts.skips).toEqual(whole.skips);
  });

  it('splits an uncompressed dump at <page> starts', async () => {
    const file = sample(LTGWIKI);
    const bytes = await readFile(file);
    const units = await planWikipedia(file, { targetBytes: 600_000 });
    expect(units.length).toBeGreaterThanOrEqual(5);
    contiguous(units, bytes.length);
    for (const u of units.slice(1)) expect(bytes.subarray(u.start, u.start + 6).toString()).toBe('<page>');
    const parts = await readUnits(units);
    expect(parts.docs.map((d) => d.id)).toEqual(ltg.docs.map((d) => d.id));
    // Units after the first take the language and namespaces from the dump's header.
    expect(parts.docs.map((d) => JSON.stringify(d.meta))).toEqual(ltg.docs.map((d) => JSON.stringify(d.meta)));
  });

  it('uses a multistream index: units start at stream offsets; same documents with and without it', async () => {
    // A multistream dump as Wikimedia writes it: header stream, streams of 100 pages, footer stream.
    const xml = await readFile(sample(LTGWIKI));
    const text = xml.toString('latin1');
    const pageStarts: number[] = [];
    for (let at = text.indexOf('<page>'); at >= 0; at = text.indexOf('<page>', at + 1)) pageStarts.push(at);
    const footer = text.lastIndexOf('</mediawiki>');
    const cuts = [0, ...pageStarts.filter((_, k) => k % 100 === 0), footer, xml.length];
    const streams: Buffer[] = [];
    const index: string[] = [];
    let offset = 0;
    for (let k = 0; k + 1 < cuts.length; k++) {
      const piece = xml.subarray(cuts[k]!, cuts[k + 1]!);
      const bz = bzip2(piece);
      if (k > 0 && k < cuts.length - 2) {
        for (const m of piece.toString('utf8').matchAll(/<page>\s*<title>([^<]*)<\/title>\s*<ns>-?\d+<\/ns>\s*<id>(\d+)<\/id>/g)) index.push(`${offset}:${m[2]}:${m[1]}`);
      }
      streams.push(bz);
      offset += bz.length;
    }
    const file = path.join(dir, 'ltgwiki-pages-articles-multistream.xml.bz2');
    const indexFile = path.join(dir, 'ltgwiki-pages-articles-multistream-index.txt');
    await writeFile(file, Buffer.concat(streams));
    await writeFile(indexFile, `${index.join('\n')}\n`);
    const offsets = await readIndexOffsets(indexFile);
    expect(offsets).toHaveLength(Math.ceil(pageStarts.length / 100));

    const units = await planWikipedia(file, { index: indexFile, targetBytes: 100_000 });
    expect(units.length).toBeGreaterThanOrEqual(4);
    contiguous(units, offset);
    for (const u of units.slice(1)) expect(offsets).toContain(u.start);
    const viaIndex = await readUnits(units);
    expect(viaIndex.errors).toEqual([]);
    expect(viaIndex.docs.map((d) => d.id)).toEqual(ltg.docs.map((d) => d.id));

    const scanned = await planWikipedia(file, { targetBytes: 100_000 });
    expect(scanned.length).toBeGreaterThanOrEqual(4);
    const viaScan = await readUnits(scanned);
    expect(viaScan.docs.map((d) => d.id)).toEqual(ltg.docs.map((d) => d.id));
    // The closing </mediawiki> is found in the last stream: no truncation error.
    expect(viaScan.errors).toEqual([]);
  });
});
