import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmptyInputError, InvalidTextError, MalformedInputError } from '@pretext/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findMarkers } from './bz2.js';
import { ENWIKI, LTGWIKI, collect, sample, type Collected } from './corpora.test-helper.js';
import { readWikipedia } from './index.js';

let dir: string;
let enwiki: Collected;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pretext-wiki-'));
  enwiki = await collect(sample(ENWIKI));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Byte offsets holding the first bit of each bz2 block (found by the marker scan, without decoding). */
async function blockStarts(file: string): Promise<number[]> {
  const bytes = await readFile(file);
  return findMarkers(bytes, 0, bytes.length * 8)
    .filter((m) => m.kind === 'block')
    .map((m) => m.bit >>> 3);
}

const ids = (c: Collected) => c.docs.map((d) => d.id);

describe('damaged dumps: typed errors with positions, good pages kept', () => {
  it('truncated bz2: the pages of the whole blocks before the cut are kept, one error at the cut block', async () => {
    const src = sample(ENWIKI);
    const bytes = await readFile(src);
    const starts = await blockStarts(src);
    expect(starts.length).toBe(7); // 6.1 MB of XML in 900 kB blocks
    const cut = Math.floor((starts[3]! + starts[4]!) / 2);
    const file = path.join(dir, 'truncated.xml.bz2');
    await writeFile(file, bytes.subarray(0, cut));
    const r = await collect(file);
    expect(r.errors).toHaveLength(1);
    const e = r.errors[0] as MalformedInputError;
    expect(e).toBeInstanceOf(MalformedInputError);
    expect(e.file).toBe(file);
    expect(e.position).toBe(starts[3]);
    expect(e.reason).toMatch(/truncated bzip2 block/);
    expect(r.docs.length).toBeGreaterThan(20);
    expect(ids(r)).toEqual(ids(enwiki).slice(0, r.docs.length));
  });

  it('a corrupt block in the middle costs only the pages that touch it', async () => {
    const src = sample(ENWIKI);
    const bytes = Buffer.from(await readFile(src));
    const starts = await blockStarts(src);
    const at = starts[2]! + 5000;
    for (let i = 0; i < 8; i++) bytes[at + i] = bytes[at + i]! ^ 0xa5;
    const file = path.join(dir, 'corrupt.xml.bz2');
    await writeFile(file, bytes);
    const r = await collect(file);
    expect(r.errors).toHaveLength(1);
    expect((r.errors[0] as MalformedInputError).position).toBe(starts[2]);
    expect(r.errors[0]!.message).toMatch(/corrupt bzip2 block/);
    // Everything read is genuine and in order; pages after the damaged block are there.
    const full = ids(enwiki);
    const got = ids(r);
    expect(got.every((id) => full.includes(id))).toBe(true);
    expect(got).toEqual(full.filter((id) => got.includes(id)));
    expect(got.at(-1)).toBe(full.at(-1));
    // One block is ~900 kB of XML: a handful of long articles at most.
    expect(full.length - got.length).toBeGreaterThan(0);
    expect(full.length - got.length).toBeLessThanOrEqual(12);
  });

  it('uncompressed dump cut inside a page: earlier pages kept, error names the page offset', async () => {
    const src = sample(LTGWIKI);
    const bytes = await readFile(src);
    const text = bytes.toString('latin1');
    const pageAt = text.indexOf('<page>', Math.floor(bytes.length / 2));
    const file = path.join(dir, 'cut.xml');
    await writeFile(file, bytes.subarray(0, pageAt + 300));
    const full = await collect(src);
    const r = await collect(file);
    expect(r.errors).toHaveLength(1);
    const e = r.errors[0] as MalformedInputError;
    expect(e.position).toBe(pageAt);
    expect(e.reason).toMatch(/truncated page/);
    expect(ids(r)).toEqual(ids(full).slice(0, r.docs.length));
    expect(r.docs.length).toBeGreaterThan(300);
  });

  it('a malformed page and a page with invalid UTF-8 are reported and skipped; their neighbours are read', async () => {
    const src = sample(LTGWIKI);
    const bytes = Buffer.from(await readFile(src));
    const text = bytes.toString('latin1');
    const full = await collect(src);
    // Break the XML of the page of "Aglyunys nūvods" and put a stray 0xff into the next article.
    const titleAt = text.indexOf('<title>Aglyunys n');
    const badXmlPage = text.lastIndexOf('<page>', titleAt);
    const closeTitle = text.indexOf('</title>', titleAt);
    bytes.write('</titl>', closeTitle, 'latin1');
    bytes[closeTitle + 7] = 0x20; // keep the length: `</title>` → `</titl> `
    const nextPage = text.indexOf('<page>', titleAt);
    const textAt = text.indexOf('<text', nextPage) + 60;
    bytes[textAt] = 0xff;
    const file = path.join(dir, 'bad-pages.xml');
    await writeFile(file, bytes);
    const r = await collect(file);
    expect(r.errors).toHaveLength(2);
    const [xml, utf8] = r.errors;
    expect(xml).toBeInstanceOf(MalformedInputError);
    expect((xml as MalformedInputError).position).toBe(badXmlPage);
    expect(xml!.message).toMatch(/malformed page XML/);
    expect(utf8).toBeInstanceOf(InvalidTextError);
    expect((utf8 as InvalidTextError).offset).toBe(textAt);
    const lost = full.docs.filter((d) => !r.docs.some((x) => x.id === d.id));
    expect(lost.map((d) => d.meta?.title)).toContain('Aglyunys nūvods');
    expect(lost.length).toBeLessThanOrEqual(2);
    expect(r.docs.length).toBe(full.docs.length - lost.length);
  });

  it('empty and binary files: EmptyInputError and MalformedInputError, no documents', async () => {
    const empty = path.join(dir, 'empty.xml.bz2');
    await writeFile(empty, '');
    const r = await collect(empty);
    expect(r.docs).toHaveLength(0);
    expect(r.errors.map((e) => e.constructor)).toEqual([EmptyInputError]);
    await expect(async () => {
      for await (const _ of readWikipedia(empty, { strict: true })) void _;
    }).rejects.toBeInstanceOf(EmptyInputError);

    const noise = path.join(dir, 'noise.xml');
    await writeFile(noise, randomBytes(100_000));
    const b = await collect(noise);
    expect(b.docs).toHaveLength(0);
    expect(b.errors).toHaveLength(1);
    expect(b.errors[0]).toBeInstanceOf(MalformedInputError);
    expect((b.errors[0] as MalformedInputError).position).toBe(0);
  });
});
