import { unzipSync, type Unzipped } from 'fflate';
import { convert, type HtmlToTextOptions } from 'html-to-text';
import { DomUtils, parseDocument } from 'htmlparser2';
import { MalformedInputError } from '@pretext/core';
import { parseGutenberg } from './gutenberg.js';

export interface EpubBook {
  readonly text: string;
  readonly title?: string;
  readonly author?: string;
  readonly language?: string;
  /** The spine documents read, in order (zip paths). */
  readonly chapters: readonly string[];
}

type Element = ReturnType<typeof DomUtils.getElementsByTagName>[number];

const localName = (el: Element): string => el.name.slice(el.name.indexOf(':') + 1).toLowerCase();
const byLocalName = (root: Parameters<typeof DomUtils.findAll>[1], name: string): Element[] => DomUtils.findAll((el) => localName(el) === name, root);

const HTML_OPTIONS: HtmlToTextOptions = {
  wordwrap: false,
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'svg', format: 'skip' },
    { selector: 'hr', format: 'skip' },
    { selector: 'script', format: 'skip' },
    { selector: 'style', format: 'skip' },
    // Project Gutenberg's ebookmaker wraps its licence header and footer in these.
    { selector: '.pg-boilerplate', format: 'skip' },
    { selector: '#pg-header', format: 'skip' },
    { selector: '#pg-footer', format: 'skip' },
    ...(['h1', 'h2', 'h3', 'h4', 'h5', 'h6'] as const).map((h) => ({ selector: h, options: { uppercase: false } })),
    { selector: 'table', format: 'block' },
    { selector: 'tr', format: 'block' },
    { selector: 'td', format: 'inline' },
    { selector: 'th', format: 'inline' },
  ],
};

function decode(bytes: Uint8Array): string {
  const prolog = new TextDecoder('latin1').decode(bytes.subarray(0, 200));
  const label = /encoding=["']([\w.:-]+)["']/i.exec(prolog)?.[1];
  try {
    return new TextDecoder(label ?? 'utf-8').decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

/** Resolves an href against the folder of the file that holds it (zip paths use `/`). */
function resolveHref(base: string, href: string): string {
  const parts = base.split('/').slice(0, -1);
  for (const seg of decodeURIComponent(href.split('#')[0]!).split('/')) {
    if (seg === '..') parts.pop();
    else if (seg !== '.' && seg !== '') parts.push(seg);
  }
  return parts.join('/');
}

/**
 * Reads an EPUB (2 or 3): `META-INF/container.xml` → the OPF package → metadata (dc:title, dc:creator,
 * dc:language) and the spine; each linear XHTML document in spine order becomes text (html-to-text), chapters
 * separated by a blank line. Project Gutenberg boilerplate is removed (its marked sections, then text markers).
 */
export function readEpub(bytes: Uint8Array, file: string): EpubBook {
  let zip: Unzipped;
  try {
    // Images, fonts, audio and styles are never read: leave them compressed.
    zip = unzipSync(bytes, { filter: (f) => !/\.(jpe?g|png|gif|webp|bmp|tiff?|ttf|otf|woff2?|mp3|mp4|m4a|ogg|css)$/i.test(f.name) });
  } catch (error) {
    throw new MalformedInputError(file, 'its zip directory', `is not a readable EPUB: ${(error as Error).message}`);
  }
  const container = zip['META-INF/container.xml'];
  if (!container) throw new MalformedInputError(file, 'META-INF/container.xml', 'the EPUB lacks its container file');
  const rootfile = byLocalName(parseDocument(decode(container), { xmlMode: true }).children, 'rootfile')
    .map((el) => el.attribs['full-path'])
    .find((p): p is string => !!p);
  if (!rootfile) throw new MalformedInputError(file, 'META-INF/container.xml', 'the container names no package (rootfile)');
  const opfBytes = zip[rootfile];
  if (!opfBytes) throw new MalformedInputError(file, rootfile, 'the package file named by the container is missing');
  const opf = parseDocument(decode(opfBytes), { xmlMode: true }).children;

  const text = (el: Element | undefined) => (el ? DomUtils.textContent(el).replace(/\s+/g, ' ').trim() : undefined);
  const title = text(byLocalName(opf, 'title')[0]);
  const creators = byLocalName(opf, 'creator').filter((el) => {
    const role = el.attribs['opf:role'] ?? el.attribs.role;
    return !role || role === 'aut';
  });
  const author = creators.map((el) => text(el)).filter(Boolean).join(', ') || undefined;
  const language = text(byLocalName(opf, 'language')[0])?.split(/[-_]/)[0]?.toLowerCase();

  const items = new Map<string, { href: string; type: string; properties: string }>();
  for (const el of byLocalName(opf, 'item')) {
    const id = el.attribs.id;
    const href = el.attribs.href;
    if (id && href) items.set(id, { href: resolveHref(rootfile, href), type: el.attribs['media-type'] ?? '', properties: el.attribs.properties ?? '' });
  }
  const spine = byLocalName(opf, 'itemref');
  if (spine.length === 0) throw new MalformedInputError(file, rootfile, 'the package has no spine');
  const chapters: string[] = [];
  const parts: string[] = [];
  for (const ref of spine) {
    if (ref.attribs.linear === 'no') continue;
    const item = items.get(ref.attribs.idref ?? '');
    if (!item) throw new MalformedInputError(file, rootfile, `the spine names item "${ref.attribs.idref}" that the manifest lacks`);
    if (!/x?html/i.test(item.type) || /\bnav\b/.test(item.properties)) continue;
    const content = zip[item.href];
    if (!content) throw new MalformedInputError(file, item.href, 'a spine document is missing from the archive');
    const chapter = convert(decode(content), HTML_OPTIONS).trim();
    chapters.push(item.href);
    if (chapter) parts.push(chapter);
  }
  let body = parts.join('\n\n');
  const pg = parseGutenberg(body);
  if (pg.gutenberg) body = pg.text;
  return {
    text: body,
    ...(title ? { title } : {}),
    ...(author ? { author } : {}),
    ...(language ? { language } : {}),
    chapters,
  };
}
