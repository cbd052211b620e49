import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmptyInputError, InvalidTextError, MalformedInputError } from '@pretext/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, sample } from './corpora.test-helper.js';
import { gunzipMembers } from './gzip.js';
import { readCommonCrawl } from './index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pretext-cc-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function memberStarts(file: string): Promise<number[]> {
  const starts: number[] = [];
  for await (const e of gunzipMembers(file, 0, Infinity)) if (e.kind === 'data') starts.push(e.position);
  return starts;
}

const WARC = 'cc/resiliparse/warcfile.warc.gz';
const PLAIN = 'cc/eugeneware-warc/CC-MAIN-20140820021334-00006-ip-10-180-136-8.ec2.internal.warc';

describe('damaged input: typed errors with positions, good neighbours kept', () => {
  it('truncated gzip: every record before the cut is kept, one error names the cut member', async () => {
    const src = sample(WARC);
    const bytes = await readFile(src);
    const starts = await memberStarts(src);
    expect(starts).toHaveLength(50);
    const cut = Math.floor(bytes.length * 0.6);
    const broken = starts.filter((s) => s < cut).at(-1)!; // the member the cut falls in
    const file = path.join(dir, 'truncated.warc.gz');
    await writeFile(file, bytes.subarray(0, cut));

    const full = await collect(src);
    const part = await collect(file);
    expect(part.errors).toHaveLength(1);
    const [error] = part.errors;
    expect(error).toBeInstanceOf(MalformedInputError);
    expect((error as MalformedInputError).file).toBe(file);
    expect((error as MalformedInputError).position).toBe(broken);
    expect(error!.message).toContain(file);
    // Exactly the documents whose records lie in members before the broken one.
    const before = full.docs.filter((d) => part.docs.some((p) => p.id === d.id));
    expect(part.docs.length).toBe(before.length);
    expect(part.docs.map((d) => d.id)).toEqual(full.docs.slice(0, part.docs.length).map((d) => d.id));
    expect(part.docs.length).toBeGreaterThan(0);

    await expect(async () => {
      for await (const _ of readCommonCrawl(file, { strict: true })) void _;
    }).rejects.toBeInstanceOf(MalformedInputError);
  });

  it('a corrupt member in the middle costs only its own record', async () => {
    const src = sample(WARC);
    const bytes = Buffer.from(await readFile(src));
    const starts = await memberStarts(src);
    const full = await collect(src);
    // Damage the deflate data of the 20th member (a response, request or metadata record).
    const k = 20;
    const at = starts[k]! + 40;
    for (let i = 0; i < 16; i++) bytes[at + i] = bytes[at + i]! ^ 0x5a;
    const file = path.join(dir, 'corrupt.warc.gz');
    await writeFile(file, bytes);
    const r = await collect(file);
    expect(r.errors).toHaveLength(1);
    expect((r.errors[0] as MalformedInputError).position).toBe(starts[k]);
    expect(r.errors[0]!.message).toContain(`reading resumed at byte ${starts[k + 1]}`);
    // At most the damaged record's document is missing; every other document is there, in order.
    const ids = new Set(r.docs.map((d) => d.id));
    const missing = full.docs.filter((d) => !ids.has(d.id));
    expect(missing.length).toBeLessThanOrEqual(1);
    expect(r.docs.length + missing.length).toBe(full.docs.length);
    const recordsSeen = r.docs.length + Object.values(r.types).reduce((a, b) => a + b, 0);
    expect(recordsSeen).toBe(49);
  });

  it('uncompressed WARC: a broken header is reported and the following records are still read', async () => {
    const src = sample(PLAIN);
    const text = (await readFile(src)).toString('latin1');
    const full = await collect(src);
    // Break the Content-Length of the 3rd record (the first response's request is the 2nd).
    const headerAt = nthIndex(text, 'WARC/1.0\r\n', 2);
    const lengthAt = text.indexOf('Content-Length: ', headerAt) + 'Content-Length: '.length;
    const damaged = `${text.slice(0, lengthAt)}xx${text.slice(lengthAt + 2)}`;
    const file = path.join(dir, 'bad-header.warc');
    await writeFile(file, Buffer.from(damaged, 'latin1'));
    const r = await collect(file);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toBeInstanceOf(MalformedInputError);
    expect((r.errors[0] as MalformedInputError).position).toBe(headerAt);
    expect(r.errors[0]!.message).toMatch(/Content-Length/);
    // Resynchronised on the next record: all 13 records but the damaged one are accounted for.
    const seen = r.docs.length + Object.values(r.types).reduce((a, b) => a + b, 0);
    expect(seen).toBe(12);
    expect(r.docs.map((d) => d.id)).toEqual(full.docs.map((d) => d.id).filter((id) => r.docs.some((d) => d.id === id)));
  });

  it('uncompressed WARC truncated mid-record: earlier records kept, error at the cut record', async () => {
    const src = sample(PLAIN);
    const bytes = await readFile(src);
    const text = bytes.toString('latin1');
    const last = text.lastIndexOf('WARC/1.0\r\nWARC-Type: response');
    const file = path.join(dir, 'cut.warc');
    await writeFile(file, bytes.subarray(0, last + 600));
    const full = await collect(src);
    const r = await collect(file);
    expect(r.errors).toHaveLength(1);
    expect((r.errors[0] as MalformedInputError).position).toBe(last);
    expect(r.errors[0]!.message).toMatch(/truncated WARC (record|header)/);
    expect(r.docs.map((d) => d.id)).toEqual(full.docs.slice(0, r.docs.length).map((d) => d.id));
  });

  it('WET with invalid UTF-8 in one record: InvalidTextError for it, the others read', async () => {
    const src = sample('cc/eugeneware-warc/CC-MAIN-20140820021334-00006-ip-10-180-136-8.ec2.internal.warc.wet');
    const bytes = Buffer.from(await readFile(src));
    const text = bytes.toString('latin1');
    const second = nthIndex(text, 'WARC-Type: conversion', 1);
    const bodyAt = text.indexOf('\r\n\r\n', second) + 4;
    bytes[bodyAt + 10] = 0xff; // same length, so Content-Length still holds
    const file = path.join(dir, 'bad-utf8.warc.wet');
    await writeFile(file, bytes);
    const r = await collect(file);
    expect(r.docs).toHaveLength(2);
    expect(r.errors).toHaveLength(1);
    const e = r.errors[0] as InvalidTextError;
    expect(e).toBeInstanceOf(InvalidTextError);
    expect(e.file).toBe(file);
    expect(e.offset).toBe(bodyAt + 10);
  });

  it('an empty file gives EmptyInputError; a binary file gives MalformedInputError and no documents', async () => {
    const empty = path.join(dir, 'empty.warc.gz');
    await writeFile(empty, '');
    const r = await collect(empty);
    expect(r.docs).toHaveLength(0);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toBeInstanceOf(EmptyInputError);
    await expect(async () => {
      for await (const _ of readCommonCrawl(empty, { strict: true })) void _;
    }).rejects.toBeInstanceOf(EmptyInputError);

    const binary = path.join(dir, 'noise.warc');
    await writeFile(binary, randomBytes(200_000));
    const b = await collect(binary);
    expect(b.docs).toHaveLength(0);
    expect(b.errors.length).toBeGreaterThanOrEqual(1);
    expect(b.errors[0]).toBeInstanceOf(MalformedInputError);
    expect((b.errors[0] as MalformedInputError).position).toBe(0);

    // A gzip file that is not a WARC inside: one error, no documents.
    const gz = path.join(dir, 'other.warc.gz');
    await copyFile(sample('cc/whirlwind-python/whirlwind.warc.gz'), gz);
    const notWarc = path.join(dir, 'text.gz');
    const { gzipSync } = await import('node:zlib');
    await writeFile(notWarc, gzipSync(Buffer.from('just some text\nnot an archive\n'.repeat(100))));
    const t = await collect(notWarc);
    expect(t.docs).toHaveLength(0);
    expect(t.errors).toHaveLength(1);
    expect((t.errors[0] as MalformedInputError).position).toBe(0);
  });
});

function nthIndex(text: string, needle: string, n: number): number {
  let at = -1;
  for (let i = 0; i <= n; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`${needle} occurs fewer than ${n + 1} times`);
  }
  return at;
}
