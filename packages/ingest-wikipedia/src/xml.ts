import { SaxesParser } from 'saxes';

/** What the `<mediawiki>` root and `<siteinfo>` say about the wiki (any export-0.x schema). */
export interface SiteInfo {
  /** `export-0.10` etc., from the root's namespace URI; null if absent. */
  readonly exportVersion: string | null;
  readonly dbname: string | null;
  /** Wiki language: `xml:lang` of the root, else derived from dbname (`enwiki` → `en`) or the base URL host. */
  readonly language: string | null;
  /** Namespace key → local name (`6` → `File`, `Tập tin`); empty without siteinfo. */
  readonly namespaces: ReadonlyMap<number, string>;
}

export interface PageRecord {
  readonly title: string;
  /** From `<ns>`; derived from the title prefix for schemas before export-0.4. */
  readonly ns: number;
  readonly id: number | null;
  readonly redirect: boolean;
  readonly revisionId: number | null;
  readonly timestamp: string | null;
  readonly text: string;
}

const PROJECT_SUFFIXES = /(wiki|wiktionary|wikibooks|wikinews|wikiquote|wikisource|wikiversity|wikivoyage)$/;

/** Parses the text before the first `<page>`: the root start tag and `<siteinfo>`. */
export function parseSiteInfo(head: string): SiteInfo {
  const root = /<mediawiki\b[^>]*>/.exec(head)?.[0] ?? '';
  const attr = (name: string) => new RegExp(`\\s${name}\\s*=\\s*"([^"]*)"`).exec(root)?.[1] ?? null;
  const xmlns = attr('xmlns');
  const exportVersion = xmlns ? (/export-(\d+\.\d+)/.exec(xmlns)?.[0] ?? null) : null;
  const tag = (name: string) => {
    const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(head);
    return m ? decodeXml(m[1]!) : null;
  };
  const dbname = tag('dbname');
  const base = tag('base');
  let language = attr('xml:lang');
  if (!language && dbname) {
    const m = PROJECT_SUFFIXES.exec(dbname);
    if (m && m.index > 0) language = dbname.slice(0, m.index).replace(/_/g, '-');
  }
  if (!language && base) language = /^https?:\/\/([a-z][a-z-]*)\.wiki/.exec(base)?.[1] ?? null;
  const namespaces = new Map<number, string>();
  for (const m of head.matchAll(/<namespace\s+key="(-?\d+)"[^>]*?(?:\/>|>([^<]*)<\/namespace>)/g)) {
    namespaces.set(Number(m[1]), decodeXml(m[2] ?? ''));
  }
  return { exportVersion, dbname, language, namespaces };
}

const XML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
function decodeXml(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g, (_, e: string) =>
    e[0] === '#' ? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : XML_ENTITIES[e]!,
  );
}

/** Namespace of a title by its prefix (for schemas without `<ns>`). */
function namespaceOf(title: string, namespaces: ReadonlyMap<number, string>): number {
  const colon = title.indexOf(':');
  if (colon <= 0) return 0;
  const prefix = title.slice(0, colon);
  for (const [key, name] of namespaces) if (name && name === prefix) return key;
  return 0;
}

export class PageXmlError extends Error {}

/** Character data of a `<text>` element: entity and character references decoded, checked as saxes would. */
function decodeTextContent(raw: string): string {
  if (raw.indexOf('<') >= 0) throw new PageXmlError('"<" inside <text> content');
  let amp = raw.indexOf('&');
  if (amp < 0) return raw;
  // One pass with indexOf and slices: measured several times faster than a regex replace with a callback.
  const parts: string[] = [];
  let from = 0;
  while (amp >= 0) {
    const semi = raw.indexOf(';', amp + 1);
    if (semi < 0 || semi - amp > 10) throw new PageXmlError(`unterminated reference ${JSON.stringify(raw.slice(amp, amp + 12))} in <text>`);
    const name = raw.slice(amp + 1, semi);
    // Own properties only: `&toString;` is an undefined reference, not Object.prototype's function.
    let value = Object.hasOwn(XML_ENTITIES, name) ? XML_ENTITIES[name] : undefined;
    if (value === undefined) {
      const code = name[0] === '#' ? (name[1] === 'x' ? (/^#x[0-9a-fA-F]+$/.test(name) ? parseInt(name.slice(2), 16) : NaN) : /^#[0-9]+$/.test(name) ? Number(name.slice(1)) : NaN) : NaN;
      if (!(code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff))) {
        throw new PageXmlError(`undefined reference ${JSON.stringify(raw.slice(amp, semi + 1))} in <text>`);
      }
      value = String.fromCodePoint(code);
    }
    parts.push(raw.slice(from, amp), value);
    from = semi + 1;
    amp = raw.indexOf('&', from);
  }
  parts.push(raw.slice(from));
  return parts.join('');
}

/**
 * Parses one `<page>…</page>` element as an XML fragment with saxes (a conforming, streaming XML parser).
 * The revision text, ~95% of a page's bytes, is cut out by `indexOf` (its content cannot hold a `<`) and
 * its references decoded directly, so saxes checks the page structure without walking every character of
 * the text in JavaScript; this halved the parse cost on the enwiki sample. Throws `PageXmlError` when the
 * page is not well-formed XML.
 */
export function parsePage(xml: string, site: SiteInfo): PageRecord {
  const open = xml.indexOf('<text');
  if (open >= 0 && xml.indexOf('<text', open + 5) < 0) {
    const gt = xml.indexOf('>', open);
    if (gt > 0 && xml.charCodeAt(gt - 1) !== 47 /* not <text/> */) {
      const close = xml.indexOf('</text>', gt);
      if (close > 0) {
        const record = parseStructure(`${xml.slice(0, gt + 1)}${xml.slice(close)}`, site);
        const text = decodeTextContent(xml.slice(gt + 1, close));
        return { ...record, text, redirect: record.redirect || isRedirectText(text) };
      }
    }
  }
  return parseStructure(xml, site);
}

/** A page whose wikitext is left as UTF-16 code units, `units[0, length)`, in an array the next call reuses. */
export interface PageUnits extends Omit<PageRecord, 'text'> {
  readonly units: Uint16Array;
  readonly length: number;
}

let textUnits = new Uint16Array(1 << 16);
function unitsFor(n: number): Uint16Array {
  if (textUnits.length < n) textUnits = new Uint16Array(Math.max(n, 2 * textUnits.length));
  return textUnits;
}

/**
 * parsePage of a page's UTF-8 bytes (valid UTF-8: the caller checks), with the same result and errors. The
 * text goes from bytes to code units in one pass, references included, and never becomes a string: on the
 * enwiki sample, decoding the page to a string and then building the decoded text cost more than everything
 * else in parsing. Anything unusual (no single `<text>` element, a `<` or a reference other than the five
 * entities and character references in the text) takes the string path, which reports it.
 */
export function parsePageUnits(bytes: Uint8Array, site: SiteInfo): PageUnits {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const open = b.indexOf('<text');
  const gt = open < 0 ? -1 : b.indexOf(62 /* > */, open);
  // The conditions of parsePage, without reading the text twice more: the decoder gives up at any `<` in it,
  // so once it succeeds the text holds no other `<text` and its first `</text>` is the last one. (So it runs
  // before saxes: with a `<` in the text, parsePage cuts the page elsewhere and saxes may report another error.)
  const close = gt < 0 ? -1 : b.lastIndexOf('</text>');
  if (close > gt && b[gt - 1] !== 47 /* not <text/> */ && b.subarray(0, gt).indexOf('<text', open + 5) < 0 && b.indexOf('<text', close) < 0) {
    const length = decodeTextUnits(b, gt + 1, close);
    if (length >= 0) {
      // The cuts are at ASCII bytes, so the two parts decode to the same characters as the whole.
      const r = parseStructure(`${b.toString('utf8', 0, gt + 1)}${b.toString('utf8', close)}`, site);
      const units = textUnits;
      const redirect = r.redirect || isRedirectText(String.fromCharCode.apply(null, units.subarray(0, Math.min(length, 64)) as unknown as number[]));
      // A literal, not a spread: measured several µs faster per page.
      return { title: r.title, ns: r.ns, id: r.id, redirect, revisionId: r.revisionId, timestamp: r.timestamp, units, length };
    }
  }
  const r = parsePage(b.toString('utf8'), site);
  const units = unitsFor(r.text.length);
  for (let k = 0; k < r.text.length; k++) units[k] = r.text.charCodeAt(k);
  return { title: r.title, ns: r.ns, id: r.id, redirect: r.redirect, revisionId: r.revisionId, timestamp: r.timestamp, units, length: r.text.length };
}

/**
 * UTF-8 bytes b[start, end) of `<text>` content → code units in textUnits, the references decoded; -1 at a `<`
 * or at any reference decodeTextContent would not decode the same way (then the string path runs instead).
 */
function decodeTextUnits(b: Uint8Array, start: number, end: number): number {
  const out = unitsFor(end - start); // never more units than bytes
  const plain = PLAIN_ASCII;
  let w = 0;
  for (let i = start; i < end; ) {
    let c = b[i]!;
    // Runs of plain ASCII bytes in a tight loop (measured ~2× faster than one branchy loop for every byte).
    while (plain[c] === 1) {
      out[w++] = c;
      if (++i === end) return w;
      c = b[i]!;
    }
    if (c === 38 /* & */) {
      const semi = referenceEnd(b, i, end);
      if (semi < 0) return -1;
      if (refCode > 0xffff) {
        out[w++] = 0xd800 | ((refCode - 0x10000) >> 10);
        out[w++] = 0xdc00 | (refCode & 0x3ff);
      } else out[w++] = refCode;
      i = semi + 1;
    } else if (c === 60 /* < */) return -1;
    else if (c < 0xe0) {
      out[w++] = ((c & 0x1f) << 6) | (b[i + 1]! & 0x3f);
      i += 2;
    } else if (c < 0xf0) {
      out[w++] = ((c & 0x0f) << 12) | ((b[i + 1]! & 0x3f) << 6) | (b[i + 2]! & 0x3f);
      i += 3;
    } else {
      const cp = (((c & 0x07) << 18) | ((b[i + 1]! & 0x3f) << 12) | ((b[i + 2]! & 0x3f) << 6) | (b[i + 3]! & 0x3f)) - 0x10000;
      out[w++] = 0xd800 | (cp >> 10);
      out[w++] = 0xdc00 | (cp & 0x3ff);
      i += 4;
    }
  }
  return w;
}
// 1 for the ASCII bytes copied as they are (all but `&` and `<`).
const PLAIN_ASCII = new Uint8Array(256);
for (let c = 0; c < 0x80; c++) PLAIN_ASCII[c] = c === 38 || c === 60 ? 0 : 1;

// The code point of the reference read last by referenceEnd.
let refCode = 0;

/**
 * Index of the `;` ending the reference at b[amp] when decodeTextContent decodes it (`&lt;` `&gt;` `&amp;`
 * `&quot;` `&apos;`, `&#…;`, `&#x…;`, at most 10 units from `&` to `;`), its code point in refCode; else -1.
 */
function referenceEnd(b: Uint8Array, amp: number, end: number): number {
  const c1 = b[amp + 1];
  if (c1 === 35 /* # */) {
    const hex = b[amp + 2] === 120; /* x */
    let code = 0;
    let k = amp + (hex ? 3 : 2);
    const first = k;
    for (; k < end && k - amp <= 10; k++) {
      const d = b[k]!;
      if (d >= 48 && d <= 57) code = code * (hex ? 16 : 10) + (d - 48);
      else if (hex && (d | 0x20) >= 97 && (d | 0x20) <= 102) code = code * 16 + ((d | 0x20) - 87);
      else break;
    }
    if (k === first || k >= end || b[k] !== 59 /* ; */ || k - amp > 10) return -1;
    if (!(code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff))) return -1;
    refCode = code;
    return k;
  }
  const c2 = b[amp + 2];
  const c3 = b[amp + 3];
  if (c1 === 108 /* l */ || c1 === 103 /* g */) {
    if (c2 !== 116 /* t */ || c3 !== 59 || amp + 3 >= end) return -1;
    refCode = c1 === 108 ? 60 : 62;
    return amp + 3;
  }
  if (c1 === 97 /* a */ && c2 === 109 /* m */ && c3 === 112 /* p */ && b[amp + 4] === 59 && amp + 4 < end) {
    refCode = 38;
    return amp + 4;
  }
  const c4 = b[amp + 4];
  if (amp + 5 < end && b[amp + 5] === 59) {
    if (c1 === 113 /* q */ && c2 === 117 /* u */ && c3 === 111 /* o */ && c4 === 116 /* t */) {
      refCode = 34;
      return amp + 5;
    }
    if (c1 === 97 /* a */ && c2 === 112 /* p */ && c3 === 111 /* o */ && c4 === 115 /* s */) {
      refCode = 39;
      return amp + 5;
    }
  }
  return -1;
}

const REDIRECT_TEXT = /^\s*#(?:REDIRECT|REDIRECCIÓN|WEITERLEITUNG|REDIRECTION|RINVIA|DOORVERWIJZING|PATRZ|ĐỔI|перенаправление|ПЕРЕНАПРАВЛЕНИЕ|пренасочване)(?=[\s:[]|$)/i;
function isRedirectText(text: string): boolean {
  // Test the regex only on the start: V8 does not stop a non-sticky `^…`/i search after position 0.
  const start = text.slice(0, 64);
  return start.trimStart().startsWith('#') && REDIRECT_TEXT.test(start);
}

function parseStructure(xml: string, site: SiteInfo): PageRecord {
  const parser = new SaxesParser({ fragment: true, position: false });
  const path: string[] = [];
  let title = '';
  let ns: number | null = null;
  let id: number | null = null;
  let revisionId: number | null = null;
  let timestamp: string | null = null;
  let redirect = false;
  const text: string[] = [];
  let buffer = '';
  let inText = false;
  parser.on('opentag', (tag) => {
    path.push(tag.name);
    buffer = '';
    if (tag.name === 'redirect' && path.length === 2) redirect = true;
    inText = path.length === 3 && path[1] === 'revision' && tag.name === 'text';
    // Dumps hold one revision per page; with several (full-history exports), the last one counts.
    if (inText) text.length = 0;
  });
  parser.on('text', (t) => {
    if (inText) text.push(t);
    else if (path.length >= 2) buffer += t;
  });
  parser.on('closetag', (tag) => {
    const depth = path.length;
    if (depth === 2) {
      if (tag.name === 'title') title = buffer;
      else if (tag.name === 'ns') ns = Number(buffer.trim());
      else if (tag.name === 'id') id = Number(buffer.trim());
    } else if (depth === 3 && path[1] === 'revision') {
      if (tag.name === 'id') revisionId = Number(buffer.trim());
      else if (tag.name === 'timestamp') timestamp = buffer.trim();
    }
    path.pop();
    buffer = '';
    inText = false;
  });
  parser.on('error', (e) => {
    throw new PageXmlError(e.message);
  });
  parser.write(xml).close();
  if (path.length !== 0) throw new PageXmlError('unclosed elements at the end of the page');
  const wikitext = text.join('');
  const nsValue: number = ns ?? namespaceOf(title, site.namespaces);
  return {
    title,
    ns: Number.isFinite(nsValue) ? nsValue : 0,
    id: id !== null && Number.isFinite(id) ? id : null,
    redirect: redirect || isRedirectText(wikitext),
    revisionId: revisionId !== null && Number.isFinite(revisionId) ? revisionId : null,
    timestamp,
    text: wikitext,
  };
}
