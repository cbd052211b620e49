import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { collect, sample } from './corpora.test-helper.js';

const HAS_KANA = /[\u3040-\u30ff]/;

describe('readCommonCrawl on the real Common Crawl samples', () => {
  it('reads the resiliparse CC-MAIN-2020-34 WARC: 1 warcinfo, 17 request, 16 response, 16 metadata', async () => {
    const r = await collect(sample('cc/resiliparse/warcfile.warc.gz'));
    expect(r.errors).toEqual([]);
    expect(r.types.warcinfo).toBe(1);
    expect(r.types.request).toBe(17);
    expect(r.types.metadata).toBe(16);
    // Every response either became a document or was skipped for a stated reason.
    expect(r.docs.length + (r.types.response ?? 0)).toBe(16);
    expect(r.docs.length).toBeGreaterThanOrEqual(8);
    for (const d of r.docs) {
      expect(d.source).toBe('commoncrawl');
      expect(d.meta?.url).toMatch(/^https?:\/\//);
      expect(d.meta?.date).toMatch(/^2020-08-08T/);
      expect(d.meta?.record_id).toMatch(/^<urn:uuid:[0-9a-f-]{36}>$/);
      expect(['text/html', 'application/xhtml+xml']).toContain(d.meta?.content_type);
      expect(d.meta?.language).toBeNull();
      // No markup, scripts or styles leak into the text.
      expect(d.text).not.toMatch(/<\/?(?:div|script|span|a)\b|function\s*\(|\{\s*[a-z-]+\s*:/i);
      expect(d.text).not.toContain('\uFFFD');
    }
    // The windows-1251 Russian page decodes to Cyrillic, and its menu ("Главная" = home) is gone.
    const spb = r.docs.find((d) => d.meta?.url === 'http://01spb.ru/company/');
    expect(spb?.text).toContain('Стратегия пожарной безопасности');
    expect(spb?.text).not.toContain('Главная');
  });

  it('extracts the Aragonese Wikipedia page from the whirlwind WARC and matches its WET text', async () => {
    const warc = await collect(sample('cc/whirlwind-python/whirlwind.warc.gz'));
    const wet = await collect(sample('cc/whirlwind-python/whirlwind.warc.wet.gz'));
    expect(warc.types).toEqual({ warcinfo: 1, request: 1, metadata: 1 });
    expect(wet.types).toEqual({ warcinfo: 1 });
    expect(warc.docs).toHaveLength(1);
    expect(wet.docs).toHaveLength(1);
    const [html] = warc.docs;
    const [text] = wet.docs;
    for (const d of [html!, text!]) {
      expect(d.meta?.url).toBe('https://an.wikipedia.org/wiki/Escopete');
      expect(d.text).toContain("A suya población ye de 84 habitants (2007)");
    }
    expect(text!.meta?.language).toBe('spa');
    expect(text!.meta?.content_type).toBe('text/plain');
    expect(text!.meta?.date).toBe('2024-05-18T01:58:10Z');
    // WET text keeps the page chrome; extraction drops it.
    expect(text!.text).toContain('Menú principal');
    expect(html!.text).not.toContain('Menú principal');
    expect(html!.text).not.toContain('Politica de privacidat');
    expect(html!.text).not.toContain('Asturianu'); // interlanguage link list
    expect(html!.text.length).toBeLessThan(text!.text.length);
  });

  it('reads uncompressed CC-MAIN-2014-35 WARC, WET and WAT with CRLF line ends', async () => {
    const base = 'cc/eugeneware-warc/CC-MAIN-20140820021334-00006-ip-10-180-136-8.ec2.internal.warc';
    const warc = await collect(sample(base));
    expect(warc.errors).toEqual([]);
    expect(warc.types.warcinfo).toBe(1);
    expect(warc.types.request).toBe(4);
    expect(warc.types.metadata).toBe(4);
    expect(warc.docs.length + (warc.types.response ?? 0)).toBe(4);
    const wet = await collect(sample(`${base}.wet`));
    expect(wet.docs).toHaveLength(3);
    expect(wet.types).toEqual({ warcinfo: 1 });
    // The 2014 WET predates WARC-Identified-Content-Language.
    expect(wet.docs.map((d) => d.meta?.language)).toEqual([null, null, null]);
    expect(wet.docs[0]!.meta?.url).toBe('http://0pointer.de/photos/?gallery=Australia&photo=496');
    const wat = await collect(sample(`${base}.wat`));
    expect(wat.docs).toHaveLength(0);
    expect(wat.types).toEqual({ warcinfo: 1, metadata: 8 });
  });

  it('gives no documents for WAT metadata', async () => {
    const wat = await collect(sample('cc/whirlwind-python/whirlwind.warc.wat.gz'));
    expect(wat.docs).toHaveLength(0);
    expect(wat.types).toEqual({ warcinfo: 1, metadata: 1 });
  });

  it('reads the single-member jwarc record of commoncrawl.org', async () => {
    const r = await collect(sample('cc/jwarc/cc.warc.gz'));
    expect(r.docs).toHaveLength(1);
    expect(r.docs[0]!.meta?.url).toBe('http://commoncrawl.org/');
    expect(r.docs[0]!.text).toContain('We build and maintain an open repository of web crawl data');
  });

  it('decodes the EUC-JP ClueWeb09 WARC/0.18 pages to Japanese', async () => {
    const r = await collect(sample('non-cc/resiliparse/clueweb-quirk.warc.gz'));
    expect(r.errors).toEqual([]);
    expect(r.types).toEqual({ warcinfo: 1 });
    expect(r.docs).toHaveLength(29);
    for (const d of r.docs) {
      expect(d.text).toMatch(HAS_KANA);
      expect(d.text).not.toContain('\uFFFD');
      expect(d.meta?.url).toMatch(/^http:\/\/www\.uraharajuku\.st\//);
      // ClueWeb's invalid WARC-Date is passed through as written.
      expect(d.meta?.date).toBe('2008-10-294T05:21:46-0700');
    }
    expect(r.docs[0]!.text).toContain('ヘッドポーター');
  });

  it('cleans Wget <angle-bracket> URIs and de-chunks raw HTTP bodies (dolma sample)', async () => {
    const r = await collect(sample('non-cc/dolma/sample-0000.warc.gz'));
    expect(r.errors).toEqual([]);
    expect(r.types.warcinfo).toBe(1);
    expect(r.types.request).toBe(22);
    expect(r.types.metadata).toBe(1);
    expect(r.types.resource).toBe(2);
    expect(r.docs.length + (r.types.response ?? 0)).toBe(22);
    expect(r.docs.length).toBeGreaterThanOrEqual(18);
    for (const d of r.docs) {
      expect(d.meta?.url).toMatch(/^https:\/\/[^<>]+$/);
      expect(d.meta?.date).toMatch(/^2024-04-25T16:2\d:\d\dZ$/);
    }
    const mastodon = r.docs.find((d) => d.meta?.url === 'https://maria-antoniak.github.io/2023/07/04/notes-on-mastodon.html');
    expect(mastodon?.text).toContain('Some things to know about Mastodon');
  });

  it('reads the Wget 1.14 archive.org WARC (16 request, 16 response, 3 resource)', async () => {
    const r = await collect(sample('non-cc/ia-web-commons/IAH-urls-wget.warc.gz'));
    expect(r.errors).toEqual([]);
    expect(r.types.warcinfo).toBe(1);
    expect(r.types.request).toBe(16);
    expect(r.types.resource).toBe(3);
    expect(r.docs.length + (r.types.response ?? 0)).toBe(16);
    // 9 of the responses are redirects (301/302): no page text.
    expect(r.skips['http-status']).toBe(9);
    for (const d of r.docs) expect(d.text).toContain('Internet Archive');
  });

  it('reads webrecorder WARC (revisit skipped) and legacy ARC', async () => {
    const warc = await collect(sample('non-cc/warcio/example.warc.gz'));
    expect(warc.types).toEqual({ warcinfo: 2, request: 2, revisit: 1 });
    expect(warc.docs).toHaveLength(1);
    const arc = await collect(sample('non-cc/warcio/example.arc.gz'));
    expect(arc.skips).toEqual({ filedesc: 1 });
    expect(arc.docs).toHaveLength(1);
    const [a] = arc.docs;
    expect(a!.meta?.url).toBe('http://example.com/');
    expect(a!.meta?.date).toBe('2014-02-16T05:02:21Z');
    expect(a!.text).toMatch(/^Example Domain\nThis domain is established to be used for illustrative examples/);
    // Same text, same source: same id, whatever the container.
    expect(warc.docs[0]!.text).toBe(a!.text);
    expect(warc.docs[0]!.id).toBe(a!.id);
    const expected = createHash('sha256').update(`commoncrawl\0${a!.text}`).digest('hex').slice(0, 32);
    expect(a!.id).toBe(expected);
  });
});
