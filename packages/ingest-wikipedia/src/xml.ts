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

/**
 * Parses one `<page>…</page>` element with saxes (a conforming, streaming XML parser) as a fragment.
 * Throws `PageXmlError` when the page is not well-formed XML.
 */
export function parsePage(xml: string, site: SiteInfo): PageRecord {
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
    redirect: redirect || /^\s*#(?:REDIRECT|REDIRECCIÓN|WEITERLEITUNG|REDIRECTION|RINVIA|DOORVERWIJZING|PATRZ|ĐỔI|перенаправление|ПЕРЕНАПРАВЛЕНИЕ|пренасочване)(?=[\s:[]|$)/i.test(wikitext),
    revisionId: revisionId !== null && Number.isFinite(revisionId) ? revisionId : null,
    timestamp,
    text: wikitext,
  };
}
