import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';

/** The gzip members of a small multi-member file (each member: 10-byte header, deflate data, 8-byte trailer). */
export async function gzipMembers(file: string): Promise<Buffer[]> {
  const bytes = await readFile(file);
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    if (bytes[at] !== 0x1f || bytes[at + 1] !== 0x8b || bytes[at + 3] !== 0) throw new Error(`${file}: expected a plain gzip member at byte ${at}`);
    const r = inflateRawSync(bytes.subarray(at + 10), { info: true }) as unknown as { engine: { bytesWritten: number } };
    const end = at + 10 + r.engine.bytesWritten + 8;
    out.push(bytes.subarray(at, end));
    at = end;
  }
  return out;
}

/**
 * A WET file shaped like a real one (one warcinfo record, then conversion records) from the shared WET sample: its
 * warcinfo gzip member once, then its conversion record's member `copies` times. Returns the file's path.
 */
export async function wetFile(corpora: string, copies: number, out: string): Promise<string> {
  const [info, conversion] = await gzipMembers(path.join(corpora, 'commoncrawl/cc/whirlwind-python/whirlwind.warc.wet.gz'));
  await writeFile(out, Buffer.concat([info!, ...Array.from({ length: copies }, () => conversion!)]));
  return out;
}

/**
 * A WET-format file of distinct real texts, so that deduplication keeps them and shard writing is measured too:
 * the main text of the Common Crawl WARC samples' HTML pages, the English, Bulgarian and Vietnamese Wikipedia
 * articles (and the dumpster-dive sample's), the Gutenberg and Aozora books and the @stdlib Moby Dick and State of
 * the Union addresses cut into passages of about 5000 characters (a typical WET record),
 * each written as a WET conversion record in its own gzip member (as Common Crawl writes them). The records are
 * built here from real texts; the file is not a crawl.
 */
export async function distinctWetFile(corpora: string, out: string): Promise<{ file: string; documents: number }> {
  const { readCommonCrawl } = await import('@pretext/ingest-commoncrawl');
  const { readWikipedia } = await import('@pretext/ingest-wikipedia');
  const { parseTextBook, stdlibBooks } = await import('@pretext/ingest-books');
  const { gzipSync } = await import('node:zlib');
  const texts: string[] = [];
  for (const f of ['commoncrawl/cc/resiliparse/warcfile.warc.gz', 'commoncrawl/non-cc/dolma/sample-0000.warc.gz', 'commoncrawl/non-cc/ia-web-commons/IAH-urls-wget.warc.gz']) {
    for await (const d of readCommonCrawl(path.join(corpora, f), { onError: () => undefined })) texts.push(d.text);
  }
  const passages = (text: string) => {
    for (let i = 0; i < text.length; ) {
      let j = Math.min(text.length, i + 5000);
      const para = text.indexOf('\n\n', j);
      if (para >= 0 && para - j < 2000) j = para;
      texts.push(text.slice(i, j).trim());
      i = j;
    }
  };
  for (const f of [
    'wikipedia/gensim/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2',
    'wikipedia/gensim/bgwiki-latest-pages-articles-shortened.xml.bz2',
    'wikipedia/wikiextractor-viwiki/test.xml',
    'wikipedia/dumpster-dive/smallwiki-latest-pages-articles.xml',
  ]) {
    for await (const d of readWikipedia(path.join(corpora, f), { onError: () => undefined })) passages(d.text);
  }
  for (const f of ['books/gutenberg/markovify/sherlock.txt', 'books/gutenberg/sentencepiece/botchan.txt', 'books/gutenberg/ebookmaker/69030-0.txt', 'books/aozora/sentencepiece/wagahaiwa_nekodearu.txt']) {
    passages(parseTextBook(await readFile(path.join(corpora, f)), f, f).text);
  }
  for await (const d of stdlibBooks()) passages(d.text);
  const members = texts
    .filter((t) => t.length > 0)
    .map((text, i) => {
      const body = Buffer.from(`${text}\n`);
      const header =
        `WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Target-URI: https://bench.invalid/${i}\r\nWARC-Date: 2024-05-18T00:00:00Z\r\n` +
        `WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}>\r\nContent-Type: text/plain\r\n` +
        `Content-Length: ${body.length}\r\n\r\n`;
      return gzipSync(Buffer.concat([Buffer.from(header), body, Buffer.from('\r\n\r\n')]));
    });
  await writeFile(out, Buffer.concat(members));
  return { file: out, documents: members.length };
}
