import { Parser } from 'htmlparser2';

/**
 * Main-text extraction from HTML, in the spirit of jusText and trafilatura, on htmlparser2's tokenizer.
 *
 * One pass of parser callbacks, no DOM: subtrees that are never content (scripts, styles, forms controls,
 * media) or are marked as page furniture (`nav`, `footer`, `aside`, ARIA landmarks, class/id tokens such as
 * `menu`, `sidebar`, `cookie`, `share`) are dropped while parsing; the remaining text is cut into blocks at
 * block-level elements and each block is classified by length and link density, with short blocks kept only
 * between good ones (jusText's context rule) and headings kept when good text follows. When the page marks
 * its content (`<main>`, `<article>`, `role=main`) and that holds enough text, only it is used.
 *
 * Written here instead of running @mozilla/readability on linkedom because bench/throughput.ts measured
 * readability 16-36× slower per page on the real CC and Wget pages (extraction is the cost that dominates
 * FineWeb-style pipelines), and readability returns nothing for the many non-article pages of a crawl.
 */
export interface ExtractOptions {
  /** A block at least this long (CJK characters count double) with low link density is content. Default 80. */
  minGoodChars?: number;
  /** Blocks whose share of characters inside links exceeds this are navigation. Default 0.4. */
  maxLinkDensity?: number;
  /** The `<main>`/`<article>` region is used alone when it holds at least this many characters. Default 200. */
  minMainChars?: number;
}

const SKIP_TAGS = new Set([
  'script', 'style', 'noscript', 'template', 'svg', 'math', 'iframe', 'object', 'embed', 'canvas', 'video', 'audio',
  'map', 'select', 'option', 'button', 'textarea', 'input', 'label', 'head', 'nav', 'footer', 'aside', 'menu',
  'dialog', 'datalist', 'fieldset',
]);
// <title> lives in <head>; it is not part of the page body text (trafilatura keeps it as metadata, not text).
const BLOCK_TAGS = new Set([
  'address', 'article', 'blockquote', 'body', 'br', 'caption', 'center', 'dd', 'details', 'div', 'dl', 'dt',
  'figcaption', 'figure', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'html', 'li', 'main', 'ol',
  'p', 'pre', 'section', 'summary', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'ul', 'hgroup',
]);
const HEADINGS = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
const BOILERPLATE_ROLES = new Set(['navigation', 'banner', 'contentinfo', 'complementary', 'menu', 'menubar', 'search', 'dialog', 'alertdialog', 'tablist', 'toolbar']);
const BOILERPLATE_TOKENS = new Set([
  'nav', 'navbar', 'navigation', 'menu', 'menubar', 'submenu', 'footer', 'sidebar', 'breadcrumb', 'breadcrumbs', 'cookie', 'cookies',
  'consent', 'share', 'sharing', 'social', 'related', 'advert', 'advertisement', 'ads', 'ad', 'sponsor', 'sponsored', 'promo',
  'subscribe', 'newsletter', 'popup', 'modal', 'pagination', 'pager', 'widget', 'comments', 'comment', 'login', 'signup', 'masthead',
  'topbar', 'toolbar', 'skip', 'skiplink', 'tagcloud', 'banner', 'disqus', 'copyright', 'editsection', 'noprint', 'catlinks',
]);

interface Block {
  text: string;
  linkChars: number;
  heading: boolean;
  inMain: boolean;
  /** ids of the furniture-looking elements around the block */
  soft: number[];
}

interface Frame {
  name: string;
  skip: boolean;
  link: boolean;
  main: boolean;
  pre: boolean;
  soft: boolean;
}

/** Elements that are never content, whatever their size. */
function isHardBoilerplate(name: string, attrs: Record<string, string>, inMain: boolean): boolean {
  if (SKIP_TAGS.has(name)) return true;
  if (name === 'header' && !inMain) return true;
  if ('hidden' in attrs || attrs['aria-hidden'] === 'true') return true;
  const style = attrs.style;
  return style !== undefined && /display\s*:\s*none|visibility\s*:\s*hidden/i.test(style);
}

/**
 * Elements whose role, class or id names page furniture. Only a hint: a site may put `menu-open` on a wrapper
 * of the whole page, so such a subtree is dropped only if it holds a minority of the page's text.
 */
function isSoftBoilerplate(name: string, attrs: Record<string, string>): boolean {
  if (name === 'html' || name === 'body' || name === 'main' || name === 'article') return false;
  const role = attrs.role;
  if (role && BOILERPLATE_ROLES.has(role.toLowerCase())) return true;
  const names = `${attrs.class ?? ''} ${attrs.id ?? ''}`;
  if (names.length > 1) {
    for (const token of names.toLowerCase().split(/[^a-z0-9]+/)) {
      if (BOILERPLATE_TOKENS.has(token)) return true;
    }
  }
  return false;
}

/** Visible length with CJK characters counted twice (they carry about a word each). */
function weightedLength(text: string): number {
  let n = text.length;
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if ((c >= 0x3040 && c <= 0x30ff) || (c >= 0x3400 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af) || (c >= 0xf900 && c <= 0xfaff)) n++;
  }
  return n;
}

/** A block of page text as the extractor classified it (for inspection and tuning). */
export interface ClassifiedBlock {
  readonly text: string;
  readonly linkDensity: number;
  readonly inMain: boolean;
  readonly kind: 'good' | 'bad' | 'short' | 'heading';
  readonly kept: boolean;
}

export function extractMainText(html: string, options: ExtractOptions = {}): string {
  return classifyBlocks(html, options)
    .filter((b) => b.kept)
    .map((b) => b.text)
    .join('\n');
}

/** Every text block of the page body with its class and whether it is kept. */
export function classifyBlocks(html: string, options: ExtractOptions = {}): ClassifiedBlock[] {
  const minGood = options.minGoodChars ?? 80;
  const maxLinkDensity = options.maxLinkDensity ?? 0.4;
  const minMain = options.minMainChars ?? 200;

  const blocks: Block[] = [];
  const stack: Frame[] = [];
  let skipDepth = 0;
  let linkDepth = 0;
  let mainDepth = 0;
  let preDepth = 0;
  let parts: string[] = [];
  let linkChars = 0;
  let heading = false;
  let sawMain = false;
  const softStack: number[] = [];
  let softCount = 0;

  const flush = () => {
    if (parts.length === 0) return;
    let text = parts.join('');
    parts = [];
    text = preDepth > 0 ? text.replace(/[ \t\f\v\u00a0]+$/gm, '').replace(/^\n+|\n+$/g, '') : text.replace(/\s+/g, ' ').trim();
    if (text) blocks.push({ text, linkChars: Math.min(linkChars, text.length), heading, inMain: mainDepth > 0, soft: softStack.slice() });
    linkChars = 0;
    heading = false;
  };

  const parser = new Parser(
    {
      onopentag(name, attrs) {
        const main = name === 'main' || name === 'article' || attrs.role === 'main';
        const skip = skipDepth > 0 || isHardBoilerplate(name, attrs, mainDepth > 0 || main);
        if (BLOCK_TAGS.has(name) && skipDepth === 0) flush();
        if (VOID.has(name)) return;
        const soft = !skip && isSoftBoilerplate(name, attrs);
        const frame: Frame = { name, skip, link: name === 'a', main, pre: name === 'pre' || name === 'textarea', soft };
        stack.push(frame);
        if (soft) {
          flush();
          softStack.push(softCount++);
        }
        if (skip) skipDepth++;
        if (frame.link) linkDepth++;
        if (main) {
          mainDepth++;
          sawMain = true;
        }
        if (frame.pre) preDepth++;
        if (HEADINGS.has(name) && skipDepth === 0) heading = true;
      },
      ontext(text) {
        if (skipDepth > 0) return;
        parts.push(text);
        if (linkDepth > 0) linkChars += text.trim().length;
      },
      onclosetag(name) {
        if (VOID.has(name)) return;
        // Pop to the matching element (htmlparser2 closes implied elements, but stray end tags exist).
        let k = stack.length - 1;
        while (k >= 0 && stack[k]!.name !== name) k--;
        if (k < 0) return;
        while (stack.length > k) {
          const frame = stack.pop()!;
          if (BLOCK_TAGS.has(frame.name) && skipDepth === 0) flush();
          if (frame.skip) skipDepth--;
          if (frame.link) linkDepth--;
          if (frame.main) mainDepth--;
          if (frame.pre) preDepth--;
          if (frame.soft) {
            flush();
            softStack.pop();
          }
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true, recognizeSelfClosing: true },
  );
  parser.write(html);
  parser.end();
  flush();

  // Furniture-looking subtrees holding under half the page's text are dropped.
  const softChars = new Float64Array(softCount);
  let totalChars = 0;
  for (const b of blocks) {
    totalChars += b.text.length;
    for (const id of b.soft) softChars[id]! += b.text.length;
  }
  const furniture = (b: Block) => b.soft.some((id) => softChars[id]! < totalChars / 2);

  let candidates = blocks;
  if (sawMain) {
    const inMain = blocks.filter((b) => b.inMain);
    if (inMain.reduce((n, b) => n + weightedLength(b.text), 0) >= minMain) candidates = inMain;
  }

  // Classify: good (long, few links), bad (link lists), short (undecided), heading.
  const cls = candidates.map((b): ClassifiedBlock['kind'] => {
    const len = weightedLength(b.text);
    const density = b.linkChars / Math.max(1, b.text.length);
    if (furniture(b)) return 'bad';
    // Prose on link-rich sites (wikis, blogs) stays below ~0.75 link density; link lists go above it.
    if (b.heading) return density > 0.9 ? 'bad' : 'heading';
    if (len >= minGood) return density > Math.max(maxLinkDensity, 0.75) ? 'bad' : density > maxLinkDensity && len < 2 * minGood ? 'bad' : 'good';
    return density > maxLinkDensity ? 'bad' : 'short';
  });
  // Context: a short block between good ones (ignoring other short blocks) is content; a heading is kept when
  // the next decided block is good.
  const keep = cls.map((c) => c === 'good');
  // Nearest decided (good or bad) class before and after each block, in two linear passes.
  const before: string[] = new Array(cls.length);
  const after: string[] = new Array(cls.length);
  let last = 'none';
  for (let k = 0; k < cls.length; k++) {
    before[k] = last;
    if (cls[k] === 'good' || cls[k] === 'bad') last = cls[k]!;
  }
  last = 'none';
  for (let k = cls.length - 1; k >= 0; k--) {
    after[k] = last;
    if (cls[k] === 'good' || cls[k] === 'bad') last = cls[k]!;
  }
  for (let k = 0; k < cls.length; k++) {
    if (cls[k] === 'short' && before[k] === 'good' && after[k] === 'good') keep[k] = true;
    if (cls[k] === 'heading' && after[k] === 'good') keep[k] = true;
  }
  return candidates.map((b, k) => ({
    text: b.text,
    linkDensity: b.linkChars / Math.max(1, b.text.length),
    inMain: b.inMain,
    kind: cls[k]!,
    kept: keep[k]!,
  }));
}
