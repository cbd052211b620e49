import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MalformedInputError } from '@pretext/core';
import { describe, expect, it } from 'vitest';
import { BGWIKI, ENWIKI, LTGWIKI, TABLES, VIWIKI, collect, sample } from './corpora.test-helper.js';
import { readWikipedia } from './index.js';

const MARKUP = /\{\{|\}\}|\[\[|\]\]|<\/?ref\b|\{\||^\s*[|!]/m;

describe('readWikipedia on the real dump samples', () => {
  it('English single-stream bz2: 206 pages = 106 articles + 99 redirects + 1 Wikipedia: page', async () => {
    // Namespaces 0 and 4 kept: the one Wikipedia: (ns 4) page is the 100th redirect of the file.
    const namespaces: number[] = [];
    const r = await collect(sample(ENWIKI), { namespaces: [0, 4], onSkip: (_, d) => namespaces.push(d.namespace) });
    expect(r.errors).toEqual([]);
    expect(r.docs).toHaveLength(106);
    expect(r.skips).toEqual({ redirect: 100 });
    expect(namespaces.filter((n) => n === 4)).toHaveLength(1);
    expect(namespaces.filter((n) => n === 0)).toHaveLength(99);

    const [anarchism] = r.docs;
    expect(anarchism!.meta).toEqual({
      title: 'Anarchism',
      page_id: 12,
      revision_id: 716551092,
      timestamp: '2016-04-22T10:19:33Z',
      namespace: 0,
      language: 'en',
      file: sample(ENWIKI),
    });
    expect(anarchism!.source).toBe('wikipedia');
    expect(anarchism!.id).toBe(createHash('sha256').update(`wikipedia\0${anarchism!.text}`).digest('hex').slice(0, 32));
    // Link text stays ([[political philosophy]], [[self-governance|self-governed]]), markup goes.
    expect(anarchism!.text.startsWith('Anarchism is a political philosophy that advocates self-governed societies')).toBe(true);
    // Headings are lines of their own.
    expect(anarchism!.text.split('\n')).toContain('History');
    expect(anarchism!.text).not.toMatch(MARKUP);
    expect(anarchism!.text).not.toMatch(/Category:|thumb\||&[a-z]+;|''/);
    // ~3900 escaped <ref> tags in the file: none survive anywhere.
    for (const d of r.docs) expect(d.text).not.toMatch(/<\/?ref\b|&lt;ref/);
    const titles = r.docs.map((d) => d.meta?.title);
    expect(titles).toContain('Albedo');
    expect(titles).toContain('Autism');
    expect(new Set(r.docs.map((d) => d.id)).size).toBe(106);
  });

  it('removes wikitables and keeps prose (table-markup sample, no <siteinfo>)', async () => {
    const r = await collect(sample(TABLES));
    expect(r.errors).toEqual([]);
    expect(r.docs.map((d) => d.meta?.title)).toEqual([
      'Constructive vote of no confidence',
      'List of Prison Break characters',
      'Academy Award for Best Production Design',
      'Economy of Estonia',
      expect.any(String),
    ]);
    for (const d of r.docs) {
      expect(d.meta?.language).toBe('en'); // from <mediawiki xml:lang="en">, as there is no siteinfo
      expect(d.text).not.toMatch(MARKUP);
    }
    const vote = r.docs[0]!.text;
    expect(vote).toContain('The constructive vote of no confidence (in German: konstruktives Misstrauensvotum');
    expect(vote).not.toContain('Opposition candidate (party)'); // a table header cell
    expect(r.docs[2]!.text).not.toContain('Interior decorator');
  });

  it('Latgalian pages-articles (uncompressed): namespaces and redirects counted, language ltg', async () => {
    const r = await collect(sample(LTGWIKI));
    expect(r.errors).toEqual([]);
    const articles = r.docs.length + (r.skips.redirect ?? 0) + (r.skips['empty-text'] ?? 0);
    expect(articles).toBe(1050); // ns 0 pages
    expect(r.skips.namespace).toBe(2004 - 1050);
    expect(r.skips.redirect).toBe(147);
    expect(r.docs.length).toBeGreaterThan(880);
    for (const d of r.docs) {
      expect(d.meta?.language).toBe('ltg');
      expect(d.meta?.namespace).toBe(0);
    }
    const puma = r.docs.find((d) => d.meta?.title === 'Puma concolor');
    // [[Attēls:…|thumb|250px|…]]: a file link under a namespace alias not in siteinfo.
    expect(puma?.text).not.toMatch(/thumb|250px|Attēls/);
  });

  it('Vietnamese dump cut before </mediawiki>: every complete page kept, one error at the end', async () => {
    const file = sample(VIWIKI);
    const r = await collect(file);
    expect(r.docs.map((d) => d.meta?.title)).toEqual(['Internet Society', 'Tiếng Việt', 'Ohio', 'California', expect.any(String)]);
    expect(r.skips).toEqual({ redirect: 3, namespace: 1, 'empty-text': 1 });
    expect(r.skippedTitles).toContainEqual(['empty-text', 'Trang Chính']); // the main page is all templates
    expect(r.errors).toHaveLength(1);
    const [e] = r.errors as MalformedInputError[];
    expect(e).toBeInstanceOf(MalformedInputError);
    expect(e!.file).toBe(file);
    expect(e!.reason).toMatch(/missing <\/mediawiki>/);
    for (const d of r.docs) expect(d.meta?.language).toBe('vi');
    expect(r.docs[1]!.text).toMatch(/^Tiếng Việt, cũng gọi là tiếng Việt Nam/);
    // strict: the same pages come out, then the error is thrown.
    const strict: string[] = [];
    await expect(async () => {
      for await (const d of readWikipedia(file, { strict: true })) strict.push(String(d.meta?.title));
    }).rejects.toBeInstanceOf(MalformedInputError);
    expect(strict).toEqual(r.docs.map((d) => d.meta?.title));
  });

  it('reads a gzip-compressed dump like the plain one', async () => {
    const { gzipSync } = await import('node:zlib');
    const { mkdtemp, readFile, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = await mkdtemp(path.join(tmpdir(), 'pretext-wikigz-'));
    try {
      const file = path.join(dir, 'viwiki.xml.gz');
      await writeFile(file, gzipSync(await readFile(sample(VIWIKI))));
      const gz = await collect(file);
      const plain = await collect(sample(VIWIKI));
      expect(gz.docs.map((d) => d.id)).toEqual(plain.docs.map((d) => d.id));
      expect(gz.skips).toEqual(plain.skips);
      expect(gz.errors.map((e) => e.constructor)).toEqual([MalformedInputError]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('Bulgarian dump stored as UTF-16LE with BOM inside bz2', async () => {
    const r = await collect(sample(BGWIKI));
    expect(r.errors).toEqual([]);
    expect(r.skips).toEqual({ namespace: 2 });
    expect(r.docs).toHaveLength(1);
    const [d] = r.docs;
    expect(d!.meta?.title).toBe('Григориански календар');
    expect(d!.meta?.language).toBe('bg');
    expect(d!.text).toMatch(/^Григорианският календар/);
    expect(d!.text).not.toMatch(MARKUP);
  });
});

/** A `<page>` of namespace 0 around `text` (raw XML content of `<text>`). */
const page = (id: number, title: string, text: string) =>
  `<page><title>${title}</title><ns>0</ns><id>${id}</id><revision><id>${id}0</id><timestamp>2020-01-01T00:00:00Z</timestamp>` +
  `<text xml:space="preserve" bytes="1">${text}</text></revision></page>\n`;

describe('readWikipedia on tricky <text> content', () => {
  it('decodes references and line breaks as the string-based decoder did; a bad one is an error of its page alone', async () => {
    // Expected values: what the reader gave when each page was decoded to a string first.
    const dump = [
      '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" xml:lang="en">\n',
      page(1, 'References', 'A &amp;lt;b&amp;gt; c&lt;ref&gt;dropped&lt;/ref&gt; d &amp;lt;ref&amp;gt;kept as text&amp;lt;/ref&amp;gt; &#x1F600;&#128512;&#65;&#x0042; 😀 &quot;q&quot; &apos;s&apos; e&amp;nbsp;f'),
      page(2, 'Line breaks', 'One\r\ntwo&#13;&#10;three&#13;four\r\n\r\nFive &amp;#10; six.'),
      '<page><title>Empty</title><ns>0</ns><id>3</id><revision><id>30</id><text xml:space="preserve" bytes="0" /></revision></page>\n',
      page(4, 'Bad reference', 'a &bogus; b'),
      page(5, 'Unterminated', 'a & b'),
      page(6, 'Redirect by reference', '&#35;REDIRECT [[References]]'),
      '<page><title>Two revisions</title><ns>0</ns><id>7</id><revision><id>70</id><text>First.</text></revision>' +
        '<revision><id>71</id><text>Second &amp;amp; last.</text></revision></page>\n',
      page(8, 'Lt in text', 'a < b'),
      page(9, 'Surrogate reference', 'a &#xD800; b'),
      page(10, 'Zero-padded references', 'a &#00000065; b &#x000041; c'),
      page(12, 'Long reference', 'a &#000000065; b'),
      page(14, 'Prototype name', 'a &toString; b'),
      // A stray `</text>` after the text: the page is cut at the first one, as saxes would read it.
      '<page><title>Stray close</title><ns>0</ns><id>13</id><revision><id>130</id><text>a</text><sha1>x</sha1></rev</text>ision></page>\n',
      page(11, 'After &amp; errors', "'''Still''' read."),
      '</mediawiki>\n',
    ].join('');
    const dir = await mkdtemp(path.join(tmpdir(), 'pretext-wiki-text-'));
    try {
      const file = path.join(dir, 'tricky.xml');
      await writeFile(file, dump);
      const r = await collect(file);
      expect(r.docs.map((d) => [d.meta?.title, d.text])).toEqual([
        ['References', 'A <b> c d <ref>kept as text</ref> 😀😀AB 😀 "q" \'s\' e f'],
        ['Line breaks', 'One two three four\nFive six.'],
        ['Two revisions', 'Second & last.'],
        ['Zero-padded references', 'a A b A c'],
        ['After & errors', 'Still read.'],
      ]);
      expect(r.skippedTitles).toEqual([
        ['empty-text', 'Empty'],
        ['redirect', 'Redirect by reference'],
      ]);
      expect(r.errors.map((e) => (e as MalformedInputError).reason)).toEqual([
        'malformed page XML (undefined reference "&bogus;" in <text>)',
        'malformed page XML (unterminated reference "& b" in <text>)',
        'malformed page XML ("<" inside <text> content)',
        'malformed page XML (undefined reference "&#xD800;" in <text>)',
        'malformed page XML (unterminated reference "&#000000065;" in <text>)',
        'malformed page XML (undefined reference "&toString;" in <text>)',
        'malformed page XML (disallowed character in closing tag.)',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
