import { decodeHTML } from 'entities';

/**
 * Wikitext → clean prose, in linear passes (no full parse).
 *
 * Removed: comments, references and other extension tags whose content is not prose (`<ref>`, `<math>`,
 * `<gallery>`, `<timeline>`, …), templates and parser functions (a few inline ones that carry the words of
 * the sentence are rendered: `lang`, `nowrap`, `convert`, `ill`, `frac`, …), tables (`{| |}` and HTML),
 * file/image links with their captions, category links, interlanguage links, behaviour switches,
 * bold/italic quotes, and headings left without text. Kept: link text (`[[Target|label]]` → `label`),
 * external link labels, list items without their markers, and headings as lines of their own. HTML
 * entities are decoded last. Paragraph lines are joined as MediaWiki renders them (a single newline inside a
 * paragraph is a space); paragraphs, list items and headings end up one per line.
 *
 * Written here because the wikitext parsers on npm build an AST per page: wtf_wikipedia measured 9.5× slower
 * per article than these passes on the enwiki sample (bench/throughput.ts prints both).
 *
 * The passes run over the page's UTF-16 code units in one reusable `Uint16Array`, each compacting it in place
 * (every pass only shrinks the text), and only the finished prose becomes a string. The earlier string passes
 * (`out += …`, regex replaces) built a new page-sized string per pass; on the enwiki sample those copies cost
 * more than the scanning itself. Each pass keeps the exact semantics of the regex or string pass it replaced
 * (noted at each one): the output is identical, character for character.
 */
export interface WikitextOptions {
  /** Local names of the File (6) and Category (14) namespaces from siteinfo; English names always count. */
  readonly fileNamespaces?: readonly string[];
  readonly categoryNamespaces?: readonly string[];
}

// Wikipedia language editions (interlanguage link prefixes).
const LANGUAGE_CODES = new Set(
  (
    'aa ab ace ady af ak als alt am ami an ang anp ar arc ary arz as ast atj av avk awa ay az azb ba ban bar bat-smg bbc bcl bdr be be-tarask be-x-old bew bg bh bi bjn blk bm bn bo bpy br bs btm bug bxr ca cbk-zam cdo ce ceb ch cho chr chy ckb co cr crh cs csb cu cv cy da dag de dga din diq dsb dtp dty dv dz ee el eml en eo es et eu ext fa fat ff fi fiu-vro fj fo fon fr frp frr fur fy ga gag gan gcr gd gl glk gn gom gor got gpe gsw gu guc gur guw gv ha hak haw he hi hif ho hr hsb ht hu hy hyw hz ia iba id ie ig igl ii ik ilo inh io is it iu ja jam jbo jv ka kaa kab kbd kbp kcg kg kge ki kj kk kl km kn knc ko koi kr krc ks ksh ku kus kv kw ky la lad lb lbe lez lfn lg li lij lld lmo ln lo lrc lt ltg lv lzh mad mai map-bms mdf mg mh mhr mi min mk ml mn mni mnw mos mr mrj ms mt mus mwl my myv mzn na nah nan nap nds nds-nl ne new ng nia nl nn no nov nqo nr nrm nso nup nv ny oc olo om or os pa pag pam pap pcd pcm pdc pfl pi pih pl pms pnb pnt ps pt pwn qu rm rmy rn ro roa-rup roa-tara rsk ru rue rup rw sa sah sat sc scn sco sd se sg sgs sh shi shn si simple sk skr sl sm smn sn so sq sr srn ss st stq su sv sw syl szl szy ta tay tcy tdd te tet tg th ti tig tk tl tly tn to tpi tr trv ts tt tum tw ty tyv udm ug uk ur uz ve vec vep vi vls vo vro wa war wo wuu xal xh xmf yi yo yue za zea zgh zh zh-classical zh-min-nan zh-yue zu'
  ).split(' '),
);

// Extension and HTML elements whose content is not running prose.
const DROP_CONTENT = new Set([
  'ref', 'references', 'math', 'chem', 'ce', 'gallery', 'timeline', 'imagemap', 'score', 'graph', 'mapframe', 'maplink',
  'templatedata', 'templatestyles', 'syntaxhighlight', 'source', 'hiero', 'inputbox', 'categorytree', 'includeonly',
  'table', 'tr', 'td', 'th', 'style', 'script', 'indicator', 'charinsert', 'langconvert', 'section', 'noinclude',
]);
// Markup whose content is prose: the tag goes, the text stays.
const KEEP_CONTENT = new Set([
  'span', 'div', 'small', 'big', 'sup', 'sub', 'center', 'blockquote', 'poem', 'nowiki', 'onlyinclude', 'b', 'i', 'u', 's',
  'del', 'ins', 'font', 'abbr', 'cite', 'code', 'tt', 'var', 'kbd', 'samp', 'mark', 'q', 'em', 'strong', 'strike', 'p',
  'br', 'hr', 'bdi', 'bdo', 'dfn', 'time', 'data', 'ruby', 'rb', 'rt', 'rp', 'wbr', 'pre', 'dl', 'dt', 'dd', 'ul', 'ol',
  'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'caption',
]);
// Unwrapped tags that end a line.
const LINE_BREAK_TAGS = new Set(['br', 'p', 'li', 'dd', 'dt']);

// Character codes.
const LF = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const BANG = 33;
const HASH = 35;
const AMP = 38;
const APOS = 39;
const OPEN_PAREN = 40;
const CLOSE_PAREN = 41;
const STAR = 42;
const COMMA = 44;
const HYPHEN = 45;
const DOT = 46;
const SLASH = 47;
const COLON = 58;
const SEMI = 59;
const LT = 60;
const EQUALS = 61;
const GT = 62;
const QUESTION = 63;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const UNDERSCORE = 95;
const OPEN_BRACE = 123;
const PIPE = 124;
const CLOSE_BRACE = 125;
const EN_DASH = 0x2013;
const EM_DASH = 0x2014;

/** What JavaScript's `trim()` and regex `\s` count as white space (WhiteSpace and LineTerminator). */
function isSpace(c: number): boolean {
  return c <= 0x20
    ? c === SPACE || (c >= TAB && c <= CR)
    : c >= 0xa0 && (c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff);
}

/** Line terminators, where a multiline regex's `^` matches. */
function isLineTerminator(c: number): boolean {
  return c === LF || c === CR || c === 0x2028 || c === 0x2029;
}

// ---------------------------------------------------------------------------------------------------------------
// Code units ⇄ strings

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** `a[start, end)` as a string. */
function unitsToString(a: Uint16Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 0) return '';
  if (n <= 256) return String.fromCharCode.apply(null, a.subarray(start, end) as unknown as number[]);
  // One native copy (the UTF-16LE bytes of the array are the string's code units on little-endian machines).
  if (LITTLE_ENDIAN) return Buffer.from(a.buffer, a.byteOffset + 2 * start, 2 * n).toString('utf16le');
  let out = '';
  for (let k = start; k < end; k += 4096) out += String.fromCharCode.apply(null, a.subarray(k, Math.min(end, k + 4096)) as unknown as number[]);
  return out;
}

/** Writes the code units of `s` at `a[at]`; returns the index after them. */
function writeString(a: Uint16Array, at: number, s: string): number {
  for (let k = 0; k < s.length; k++) a[at + k] = s.charCodeAt(k);
  return at + s.length;
}

/** Moves `a[from, to)` to `a[w]` (w ≤ from: the passes compact in place); returns the index after it. */
function move(a: Uint16Array, w: number, from: number, to: number): number {
  if (to <= from) return w;
  if (w !== from) a.copyWithin(w, from, to);
  return w + (to - from);
}

/** Index of `c` in `a[from, n)`, or -1 (the native indexOf: measured faster than a loop on whole pages). */
function find(a: Uint16Array, c: number, from: number, n: number): number {
  if (from >= n) return -1;
  const k = a.indexOf(c, from);
  return k >= n ? -1 : k;
}

// Scratch arrays, grown as needed and reused across pages (conversion is synchronous, so one page at a time).
let scratch = new Uint16Array(1 << 16);
let stack = new Int32Array(256);
let outerStart = new Int32Array(256);
let outerEnd = new Int32Array(256);
let blockStart = new Int32Array(256);
let blockEnd = new Int32Array(256);
let blockLevel = new Int32Array(256); // 0: not a heading
let outerCount = 0;

function grown(a: Int32Array<ArrayBuffer>, need: number): Int32Array<ArrayBuffer> {
  if (need <= a.length) return a;
  const b = new Int32Array(Math.max(need, 2 * a.length));
  b.set(a);
  return b;
}

/** The reusable code-unit array, holding at least `n` units. */
function unitScratch(n: number): Uint16Array {
  if (scratch.length < n) scratch = new Uint16Array(Math.max(n, 2 * scratch.length));
  return scratch;
}

// ---------------------------------------------------------------------------------------------------------------
// Passes over code units. Each takes the text a[0, n), rewrites it in place and returns its new length.

/** `\r\n?` → `\n`. */
function normalizeNewlines(a: Uint16Array, n: number): number {
  let r = find(a, CR, 0, n);
  if (r < 0) return n;
  let w = r;
  for (; r < n; r++) {
    const c = a[r]!;
    if (c === CR) {
      a[w++] = LF;
      if (r + 1 < n && a[r + 1] === LF) r++;
    } else a[w++] = c;
  }
  return w;
}

/** Removes `<!-- … -->` (an unclosed comment runs to the end, as in MediaWiki). */
function removeComments(a: Uint16Array, n: number): number {
  let at = findCommentOpen(a, 0, n);
  if (at < 0) return n;
  let w = 0;
  let from = 0;
  while (at >= 0) {
    w = move(a, w, from, at);
    const end = findCommentClose(a, at + 4, n);
    if (end < 0) return w;
    from = end + 3;
    at = findCommentOpen(a, from, n);
  }
  return move(a, w, from, n);
}

function findCommentOpen(a: Uint16Array, from: number, n: number): number {
  for (let k = find(a, LT, from, n); k >= 0; k = find(a, LT, k + 1, n)) {
    if (k + 3 < n && a[k + 1] === BANG && a[k + 2] === HYPHEN && a[k + 3] === HYPHEN) return k;
  }
  return -1;
}

function findCommentClose(a: Uint16Array, from: number, n: number): number {
  for (let k = find(a, HYPHEN, from, n); k >= 0; k = find(a, HYPHEN, k + 1, n)) {
    if (k + 2 < n && a[k + 1] === HYPHEN && a[k + 2] === GT) return k;
  }
  return -1;
}

const isLetter = (c: number) => (c | 0x20) >= 97 && (c | 0x20) <= 122;
const isAlnum = (c: number) => isLetter(c) || (c >= 48 && c <= 57);

// The tag matched last by matchTag.
let tagNameStart = 0;
let tagNameEnd = 0;
let tagClosing = false;
let tagSelfClosing = false;

/**
 * The regex `/<(\/?)([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*?(\/?)>/y` at `at`: the index after the tag's `>`, or -1.
 * `\b` fails only before `_` (the name takes every letter and digit); `[^<>]*?(\/?)>` runs to the first `>`
 * unless a `<` comes first, and the tag closes itself when that `>` follows a `/`.
 */
function matchTag(a: Uint16Array, at: number, n: number): number {
  let k = at + 1;
  tagClosing = k < n && a[k] === SLASH;
  if (tagClosing) k++;
  if (!(k < n && isLetter(a[k]!))) return -1;
  tagNameStart = k;
  for (k++; k < n && isAlnum(a[k]!); k++);
  tagNameEnd = k;
  if (k < n && a[k] === UNDERSCORE) return -1;
  for (; k < n; k++) {
    const c = a[k]!;
    if (c === GT) break;
    if (c === LT) return -1;
  }
  if (k >= n) return -1;
  tagSelfClosing = a[k - 1] === SLASH;
  return k + 1;
}

function lowerName(a: Uint16Array, start: number, end: number): string {
  let s = '';
  for (let k = start; k < end; k++) s += String.fromCharCode(a[k]! | (isLetter(a[k]!) ? 0x20 : 0));
  return s;
}

/** True if the tag name `name` (lower-case) is at `at`, case-insensitively, not followed by a name char. */
function nameAt(a: Uint16Array, at: number, n: number, name: string): boolean {
  // `| 0x20` as in the string version (which also let U+0010-0019 pass for a digit): same matches.
  for (let k = 0; k < name.length; k++) if (at + k >= n || (a[at + k]! | 0x20) !== name.charCodeAt(k)) return false;
  if (at + name.length >= n) return true;
  const next = a[at + name.length]!;
  return !((next >= 48 && next <= 57) || ((next | 0x20) >= 97 && (next | 0x20) <= 122));
}

/** Index of the `</name` closing the element opened before `from` (same-name nesting counted), or -1. */
function findClose(a: Uint16Array, n: number, name: string, from: number): number {
  let depth = 1;
  for (let k = find(a, LT, from, n); k >= 0; k = find(a, LT, k + 1, n)) {
    if (k + 1 < n && a[k + 1] === SLASH) {
      if (nameAt(a, k + 2, n, name) && --depth === 0) return k;
    } else if (nameAt(a, k + 1, n, name)) {
      // A nested element of the same name, unless it closes itself.
      const gt = find(a, GT, k, n);
      if (gt > 0 && a[gt - 1] !== SLASH) depth++;
    }
  }
  return -1;
}

/** Drops non-prose elements with their content and unwraps the rest. Text that only looks like `<` stays. */
function stripTags(a: Uint16Array, n: number): number {
  let at = find(a, LT, 0, n);
  if (at < 0) return n;
  let w = 0;
  let from = 0;
  // Names whose closing tag was searched for and not found: no later search can succeed either.
  let unclosed: Set<string> | null = null;
  while (at >= 0) {
    const tagEnd = matchTag(a, at, n);
    if (tagEnd < 0) {
      at = find(a, LT, at + 1, n);
      continue;
    }
    const name = lowerName(a, tagNameStart, tagNameEnd);
    if (DROP_CONTENT.has(name)) {
      w = move(a, w, from, at);
      from = tagEnd;
      if (!tagClosing && !tagSelfClosing && !unclosed?.has(name)) {
        const close = findClose(a, n, name, tagEnd);
        if (close < 0) (unclosed ??= new Set()).add(name); // unclosed: drop the tag alone
        else {
          const gt = find(a, GT, close, n);
          from = gt < 0 ? n : gt + 1;
        }
      }
      at = find(a, LT, from, n);
      continue;
    }
    if (KEEP_CONTENT.has(name)) {
      w = move(a, w, from, at);
      if (LINE_BREAK_TAGS.has(name)) a[w++] = LF; // the tag is at least 3 units long: room for it
      from = tagEnd;
    }
    at = find(a, LT, Math.max(from, at + 1), n);
  }
  return move(a, w, from, n);
}

/** Records the pair opened at `open` and closed by the token at `close` (the token's first unit). */
function closePair(open: number, close: number): void {
  // Pairs close inner first: those already recorded that start after `open` lie inside this one.
  while (outerCount > 0 && outerStart[outerCount - 1]! > open) outerCount--;
  if (outerCount === outerStart.length) {
    outerStart = grown(outerStart, outerCount + 1);
    outerEnd = grown(outerEnd, outerCount + 1);
  }
  outerStart[outerCount] = open;
  outerEnd[outerCount] = close + 2;
  outerCount++;
}

/**
 * Outermost matched pairs of the two-unit tokens `oo`/`cc` (`{{ }}` or `[[ ]]`) in a[0, n), into
 * outerStart/outerEnd (sorted, `outerEnd` after the closing token); unmatched tokens are ignored. Tokens are
 * read left to right without overlap, as `/\{\{|\}\}/g` finds them: `{{{` is one token and a brace.
 */
function outermostPairs(a: Uint16Array, n: number, o: number, c: number): number {
  outerCount = 0;
  let depth = 0;
  for (let k = 0; k + 1 < n; k++) {
    const u = a[k]!;
    if (u === o) {
      if (a[k + 1] === o) {
        if (depth === stack.length) stack = grown(stack, depth + 1);
        stack[depth++] = k;
        k++;
      }
    } else if (u === c && a[k + 1] === c) {
      if (depth > 0) closePair(stack[--depth]!, k);
      k++;
    }
  }
  return outerCount;
}

// Whether the text holds \r, U+2028 or U+2029 (line starts for `^` besides \n); set by removeTablesIn.
let hasRareTerminators = false;

/**
 * Outermost `{| … |}` pairs: the tokens count only at the start of a line, after spaces, tabs or `:`, as
 * `/^[ \t:]*(?:\{\||\|\})/gm` finds them (so one token per line at most).
 */
function outermostTables(a: Uint16Array, n: number): number {
  outerCount = 0;
  let depth = 0;
  for (let line = 0; line < n; ) {
    let q = line;
    while (q < n && (a[q] === SPACE || a[q] === TAB || a[q] === COLON)) q++;
    if (q + 1 < n) {
      if (a[q] === OPEN_BRACE && a[q + 1] === PIPE) {
        if (depth === stack.length) stack = grown(stack, depth + 1);
        stack[depth++] = q;
      } else if (a[q] === PIPE && a[q + 1] === CLOSE_BRACE && depth > 0) closePair(stack[--depth]!, q);
    }
    // The next line start.
    let k = find(a, LF, q, n);
    if (k < 0) k = n;
    if (hasRareTerminators) {
      for (let j = q; j < k; j++) {
        if (isLineTerminator(a[j]!)) {
          k = j;
          break;
        }
      }
    }
    line = k + 1;
  }
  return outerCount;
}

function hasTokenPair(a: Uint16Array, n: number, first: number, second: number): boolean {
  for (let k = find(a, first, 0, n); k >= 0; k = find(a, first, k + 1, n)) if (k + 1 < n && a[k + 1] === second) return true;
  return false;
}

/** Removes templates, parser functions and template parameters (`{{…}}`, `{{{…}}}`), with nesting. */
function removeTemplatesIn(a: Uint16Array, n: number): number {
  if (!hasTokenPair(a, n, OPEN_BRACE, OPEN_BRACE)) return n;
  const count = outermostPairs(a, n, OPEN_BRACE, CLOSE_BRACE);
  let w = 0;
  let from = 0;
  for (let p = 0; p < count; p++) {
    const start = outerStart[p]!;
    const end = outerEnd[p]!;
    w = move(a, w, from, start);
    // `{{{parameter}}}` renders nothing; the rendered words of a template are shorter than its body.
    if (!(end - start > 4 && a[start + 2] === OPEN_BRACE)) w = writeString(a, w, renderTemplateAt(a, start + 2, end - 2));
    from = end;
  }
  return move(a, w, from, n);
}

/** renderTemplate of the body a[start, end), without making a string of bodies that render nothing (most). */
function renderTemplateAt(a: Uint16Array, start: number, end: number): string {
  const render = templateRenderer(templateName(unitsToString(a, start, firstArgEnd(a, start, end))));
  return render ? render(positionalArgs(splitArgs(unitsToString(a, start, end)))) : '';
}

/** End of the first argument of a[start, end) as splitArgs cuts it (at a `|` outside `{{ }}` and `[[ ]]`). */
function firstArgEnd(a: Uint16Array, start: number, end: number): number {
  let depth = 0;
  for (let k = start; k < end; k++) {
    const c = a[k]!;
    const next = k + 1 < end ? a[k + 1] : -1;
    if ((c === OPEN_BRACE && next === OPEN_BRACE) || (c === OPEN_BRACKET && next === OPEN_BRACKET)) {
      depth++;
      k++;
    } else if ((c === CLOSE_BRACE && next === CLOSE_BRACE) || (c === CLOSE_BRACKET && next === CLOSE_BRACKET)) {
      depth = Math.max(0, depth - 1);
      k++;
    } else if (c === PIPE && depth === 0) return k;
  }
  return end;
}

/** Removes the outermost `{| … |}` tables (each leaves a line break). */
function removeTablesIn(a: Uint16Array, n: number): number {
  if (!hasTokenPair(a, n, OPEN_BRACE, PIPE)) return n;
  hasRareTerminators = find(a, CR, 0, n) >= 0 || find(a, 0x2028, 0, n) >= 0 || find(a, 0x2029, 0, n) >= 0;
  const count = outermostTables(a, n);
  let w = 0;
  let from = 0;
  for (let p = 0; p < count; p++) {
    w = move(a, w, from, outerStart[p]!);
    a[w++] = LF;
    from = outerEnd[p]!;
  }
  return move(a, w, from, n);
}

function renderLinksIn(a: Uint16Array, n: number, files: ReadonlySet<string>, categories: ReadonlySet<string>): number {
  if (!hasTokenPair(a, n, OPEN_BRACKET, OPEN_BRACKET)) return n;
  const count = outermostPairs(a, n, OPEN_BRACKET, CLOSE_BRACKET);
  let w = 0;
  let from = 0;
  for (let p = 0; p < count; p++) {
    const start = outerStart[p]!;
    const end = outerEnd[p]!;
    w = move(a, w, from, start);
    w = renderLinkAt(a, w, start + 2, end - 2, files, categories);
    from = end;
  }
  return move(a, w, from, n);
}

/**
 * renderLink of the link body a[start, end), written at `w` (≤ start). Most links, `[[Target]]` and
 * `[[Target|label]]` without brackets, braces or a colon, are copied over in place; the rest go through the
 * string version.
 */
function renderLinkAt(a: Uint16Array, w: number, start: number, end: number, files: ReadonlySet<string>, categories: ReadonlySet<string>): number {
  let bar = -1;
  for (let k = start; k < end; k++) {
    const c = a[k]!;
    if (c === OPEN_BRACKET || c === CLOSE_BRACKET || c === OPEN_BRACE || c === CLOSE_BRACE || (c === COLON && bar < 0)) {
      return writeString(a, w, renderLink(unitsToString(a, start, end), files, categories));
    }
    if (c === PIPE && bar < 0) bar = k;
  }
  if (bar >= 0) {
    // The label: everything after the first `|`, trimmed.
    let ls = bar + 1;
    let le = end;
    while (ls < le && isSpace(a[ls]!)) ls++;
    while (le > ls && isSpace(a[le - 1]!)) le--;
    if (le > ls) return move(a, w, ls, le);
  }
  // The target, trimmed, with `_` as spaces.
  let ts = start;
  let te = bar >= 0 ? bar : end;
  while (ts < te && isSpace(a[ts]!)) ts++;
  while (te > ts && isSpace(a[te - 1]!)) te--;
  for (let k = ts; k < te; k++) {
    const c = a[k]!;
    a[w++] = c === UNDERSCORE ? SPACE : c;
  }
  return w;
}

const SCHEMES = ['http:', 'https:', 'ftp:', 'mailto:', 'news:', 'irc:', '//'].map((s) => Array.from(s, (c) => c.charCodeAt(0)));

function schemeAt(a: Uint16Array, at: number, n: number): number {
  next: for (const scheme of SCHEMES) {
    if (at + scheme.length > n) continue;
    for (let k = 0; k < scheme.length; k++) if (a[at + k] !== scheme[k]) continue next;
    return at + scheme.length;
  }
  return -1;
}

/**
 * External links → their labels, as `/\[(?:https?:|ftp:|mailto:|news:|irc:|\/\/)[^\s\]]*(?:[ \t]+([^\]\n]*))?\]/g`
 * replaced: the URL runs to white space or `]`; a `]` there closes a link without label; spaces or tabs there
 * start the label, which must close with `]` before a line break. Anything else is not a link.
 */
function renderExternalLinks(a: Uint16Array, n: number): number {
  let at = find(a, OPEN_BRACKET, 0, n);
  if (at < 0) return n;
  let w = 0;
  let from = 0;
  while (at >= 0) {
    let k = schemeAt(a, at + 1, n);
    let end = -1;
    let label = -1;
    if (k >= 0) {
      while (k < n && a[k] !== CLOSE_BRACKET && !isSpace(a[k]!)) k++;
      if (k < n && a[k] === CLOSE_BRACKET) end = k;
      else if (k < n && (a[k] === SPACE || a[k] === TAB)) {
        while (k < n && (a[k] === SPACE || a[k] === TAB)) k++;
        label = k;
        while (k < n && a[k] !== CLOSE_BRACKET && a[k] !== LF) k++;
        if (k < n && a[k] === CLOSE_BRACKET) end = k;
      }
    }
    if (end < 0) {
      at = find(a, OPEN_BRACKET, at + 1, n);
      continue;
    }
    w = move(a, w, from, at);
    if (label >= 0) w = move(a, w, label, end);
    from = end + 1;
    at = find(a, OPEN_BRACKET, from, n);
  }
  return move(a, w, from, n);
}

/** `'{2,}` → nothing (bold and italic markup); a lone apostrophe stays. */
function removeQuotes(a: Uint16Array, n: number): number {
  let at = find(a, APOS, 0, n);
  let w = 0;
  let from = 0;
  while (at >= 0) {
    let k = at + 1;
    while (k < n && a[k] === APOS) k++;
    if (k - at >= 2) {
      w = move(a, w, from, at);
      from = k;
    }
    at = find(a, APOS, k, n);
  }
  return from === 0 ? n : move(a, w, from, n);
}

/** `__[A-Z]+__` → nothing (behaviour switches such as `__NOTOC__`). */
function removeSwitches(a: Uint16Array, n: number): number {
  let at = find(a, UNDERSCORE, 0, n);
  let w = 0;
  let from = 0;
  while (at >= 0) {
    let k = at + 2;
    if (k < n && a[at + 1] === UNDERSCORE && a[k]! >= 65 && a[k]! <= 90) {
      while (k < n && a[k]! >= 65 && a[k]! <= 90) k++;
      if (k + 1 < n && a[k] === UNDERSCORE && a[k + 1] === UNDERSCORE) {
        w = move(a, w, from, at);
        from = k + 2;
        at = find(a, UNDERSCORE, from, n);
        continue;
      }
    }
    at = find(a, UNDERSCORE, at + 1, n);
  }
  return from === 0 ? n : move(a, w, from, n);
}

const HEADING = /^(={1,6})\s*(.+?)\s*\1\s*$/;
let blockCount = 0;

function addBlock(start: number, end: number, level: number): void {
  if (blockCount === blockStart.length) {
    blockStart = grown(blockStart, blockCount + 1);
    blockEnd = grown(blockEnd, blockCount + 1);
    blockLevel = grown(blockLevel, blockCount + 1);
  }
  blockStart[blockCount] = start;
  blockEnd[blockCount] = end;
  blockLevel[blockCount] = level;
  blockCount++;
}

/**
 * Lines → blocks: headings, list items and paragraphs (single newlines inside a paragraph are spaces). Blocks
 * are written back to back with `\n` between them (each takes the place of a line break it consumed), and
 * recorded in blockStart/blockEnd/blockLevel; returns the end of the last one.
 */
function toBlocks(a: Uint16Array, n: number): number {
  blockCount = 0;
  let w = 0;
  let paragraph = -1; // start of the open paragraph block, or -1
  const endParagraph = () => {
    if (paragraph >= 0) addBlock(paragraph, w, 0);
    paragraph = -1;
  };
  const startBlock = () => {
    if (blockCount > 0 || paragraph >= 0) a[w++] = LF;
    return w;
  };
  for (let line = 0; line <= n; ) {
    let le = find(a, LF, line, n);
    if (le < 0) le = n;
    const next = le + 1;
    // The line, trimmed.
    let ts = line;
    let te = le;
    while (ts < te && isSpace(a[ts]!)) ts++;
    while (te > ts && isSpace(a[te - 1]!)) te--;
    line = next;
    if (ts === te) {
      endParagraph();
      continue;
    }
    const c = a[ts]!;
    if (c === HYPHEN && te - ts >= 4) {
      let k = ts;
      while (k < te && a[k] === HYPHEN) k++;
      if (k === te) {
        endParagraph();
        continue;
      }
    }
    if (c === EQUALS) {
      const h = HEADING.exec(unitsToString(a, ts, te));
      if (h) {
        endParagraph();
        const start = startBlock();
        w = writeString(a, start, h[2]!.trim());
        addBlock(start, w, h[1]!.length);
        continue;
      }
    }
    // Table rows and cells left by broken tables.
    if (c === PIPE || c === BANG || (c === OPEN_BRACE && ts + 1 < te && a[ts + 1] === PIPE)) continue;
    if (c === STAR || c === HASH || c === COLON || c === SEMI) {
      // `/^[*#:;]+\s*/`: the markers and the white space after them go.
      let k = ts;
      while (k < te && (a[k] === STAR || a[k] === HASH || a[k] === COLON || a[k] === SEMI)) k++;
      while (k < te && isSpace(a[k]!)) k++;
      endParagraph();
      const start = startBlock();
      w = move(a, start, k, te);
      addBlock(start, w, 0);
      continue;
    }
    if (paragraph >= 0) a[w++] = SPACE;
    else paragraph = startBlock();
    w = move(a, w, ts, te);
  }
  endParagraph();
  return w;
}

const JUNK = (c: number) =>
  isSpace(c) || c === COMMA || c === DOT || c === SEMI || c === COLON || c === OPEN_PAREN || c === CLOSE_PAREN || c === HYPHEN || c === EN_DASH || c === EM_DASH;

/**
 * Cleans the block a[start, end) in place: U+00A0, U+2009 and U+202F become spaces; then brackets and
 * separators left behind by removed templates go (`/\([ \t]*(?:[,;:–—-]?[ \t]*\)|[,;][ \t]+|[ \t]+)/g` →
 * nothing when the match ends with `)`, else `(`); then runs of spaces and tabs become one space, and vanish
 * before `,.;:!?)` (`/[ \t]{2,}/g` → ` `, then `/[ \t]+([,.;:!?)])/g` → `$1`). Returns the new end.
 */
function cleanBlock(a: Uint16Array, start: number, end: number): number {
  let parens = false;
  for (let k = start; k < end; k++) {
    const c = a[k]!;
    if (c === 0xa0 || c === 0x2009 || c === 0x202f) a[k] = SPACE;
    else if (c === OPEN_PAREN) parens = true;
  }
  if (parens) end = cleanParens(a, start, end);
  let w = start;
  for (let r = start; r < end; ) {
    const c = a[r]!;
    if (c !== SPACE && c !== TAB) {
      a[w++] = c;
      r++;
      continue;
    }
    let q = r + 1;
    while (q < end && (a[q] === SPACE || a[q] === TAB)) q++;
    const next = q < end ? a[q]! : -1;
    if (!(next === COMMA || next === DOT || next === SEMI || next === COLON || next === BANG || next === QUESTION || next === CLOSE_PAREN)) {
      a[w++] = q - r >= 2 ? SPACE : c;
    }
    r = q;
  }
  return w;
}

function cleanParens(a: Uint16Array, start: number, end: number): number {
  let w = start;
  for (let r = start; r < end; ) {
    const c = a[r]!;
    if (c !== OPEN_PAREN) {
      a[w++] = c;
      r++;
      continue;
    }
    let q = r + 1;
    while (q < end && (a[q] === SPACE || a[q] === TAB)) q++;
    const d = q < end ? a[q]! : -1;
    if (d === CLOSE_PAREN) {
      r = q + 1; // `( )` → nothing
      continue;
    }
    if (d === COMMA || d === SEMI || d === COLON || d === EN_DASH || d === EM_DASH || d === HYPHEN) {
      let u = q + 1;
      while (u < end && (a[u] === SPACE || a[u] === TAB)) u++;
      if (u < end && a[u] === CLOSE_PAREN) {
        r = u + 1; // `(; )` → nothing
        continue;
      }
      if ((d === COMMA || d === SEMI) && u > q + 1) {
        a[w++] = OPEN_PAREN; // `(; born` → `(born`
        r = u;
        continue;
      }
    }
    a[w++] = OPEN_PAREN; // `(  x` → `(x`; a lone `(` stays
    r = q;
  }
  return w;
}

const optionSets = new WeakMap<WikitextOptions, { files: ReadonlySet<string>; categories: ReadonlySet<string> }>();
function namespaceSets(options: WikitextOptions) {
  let sets = optionSets.get(options);
  if (!sets) {
    sets = {
      files: new Set(['file', 'image', 'media', ...(options.fileNamespaces ?? []).map((n) => n.toLowerCase())]),
      categories: new Set(['category', ...(options.categoryNamespaces ?? []).map((n) => n.toLowerCase())]),
    };
    optionSets.set(options, sets);
  }
  return sets;
}

export function wikitextToText(src: string, options: WikitextOptions = {}): string {
  const a = unitScratch(src.length);
  return wikitextUnitsToText(a, writeString(a, 0, src), options);
}

/** wikitextToText of the code units a[0, n); `a` is overwritten. */
export function wikitextUnitsToText(a: Uint16Array, n: number, options: WikitextOptions = {}): string {
  const { files, categories } = namespaceSets(options);
  // The passes get a view ending near the text's end, so that a native indexOf that finds nothing stops there;
  // it is made anew only once the text has shrunk by a quarter (a view per pass cost ~2 µs a page).
  let v = a.subarray(0, n);
  const view = () => (n < v.length - (v.length >> 2) ? (v = a.subarray(0, n)) : v);
  n = normalizeNewlines(v, n);
  n = removeComments(view(), n);
  n = stripTags(view(), n);
  n = removeTemplatesIn(view(), n);
  n = removeTablesIn(view(), n);
  n = renderLinksIn(view(), n, files, categories);
  n = renderExternalLinks(view(), n);
  n = removeQuotes(view(), n);
  n = removeSwitches(view(), n);
  n = toBlocks(view(), n);
  return cleanBlocks(view(), n);
}

/**
 * Entities, then brackets and separators left behind by removed templates ("( )", "(; born …"), per block;
 * then the blocks with text, headings only when text follows them in their section, one per line.
 */
function cleanBlocks(a: Uint16Array, n: number): string {
  // Entities. decodeHTML of the blocks joined by `\n` is the join of the decoded blocks (no reference spans a
  // line break), so only blocks holding a `&` are decoded. `&#10;` and friends decode to line breaks: one line
  // per block is kept by turning them into spaces (in every decoded block, as when decoding block by block).
  let decoded: Map<number, string> | null = null;
  let breaks = false;
  for (let amp = find(a, AMP, 0, n), b = 0; amp >= 0; ) {
    while (blockEnd[b]! <= amp) b++;
    const text = decodeHTML(unitsToString(a, blockStart[b]!, blockEnd[b]!));
    (decoded ??= new Map()).set(b, text);
    breaks ||= text.includes('\n');
    amp = find(a, AMP, blockEnd[b]!, n);
  }
  if (decoded && breaks) for (const [b, text] of decoded) decoded.set(b, text.replace(/[\r\n]+/g, ' '));

  // Clean each block in place (blocks stay back to back, a `\n` slot between them), trimmed and emptied of
  // leftover punctuation.
  let w = 0;
  for (let b = 0; b < blockCount; b++) {
    if (b > 0) a[w++] = LF;
    const start = w;
    const text = decoded?.get(b);
    // A decoded block is never longer than its source (a reference is longer than what it stands for).
    w = text === undefined ? move(a, w, blockStart[b]!, blockEnd[b]!) : writeString(a, w, text);
    w = cleanBlock(a, start, w);
    let ts = start;
    let te = w;
    while (ts < te && isSpace(a[ts]!)) ts++;
    while (te > ts && isSpace(a[te - 1]!)) te--;
    let junk = true;
    for (let k = ts; k < te && junk; k++) junk = JUNK(a[k]!);
    blockStart[b] = ts;
    blockEnd[b] = junk ? ts : te;
  }

  // A heading is kept only when text follows it in its section (subsections included): scanning backwards,
  // the next body block and the next heading of each level are known at every block.
  const nextHeading = [Infinity, Infinity, Infinity, Infinity, Infinity, Infinity, Infinity];
  let nextBody = Infinity;
  let kept = 0;
  for (let b = blockCount - 1; b >= 0; b--) {
    const level = blockLevel[b]!;
    const empty = blockEnd[b] === blockStart[b];
    if (level === 0) {
      if (!empty) nextBody = b;
    } else {
      let sectionEnd = Infinity;
      for (let l = 1; l <= level; l++) sectionEnd = Math.min(sectionEnd, nextHeading[l]!);
      if (!(nextBody < sectionEnd)) blockEnd[b] = blockStart[b]!;
      nextHeading[level] = b;
    }
    if (blockEnd[b] !== blockStart[b]) kept++;
  }
  if (kept === 0) return '';
  w = 0;
  for (let b = 0; b < blockCount; b++) {
    if (blockEnd[b] === blockStart[b]) continue;
    if (w > 0) a[w++] = LF;
    w = move(a, w, blockStart[b]!, blockEnd[b]!);
  }
  return unitsToString(a, 0, w);
}

// ---------------------------------------------------------------------------------------------------------------
// String versions, for the small pieces that templates and links render (their arguments and labels).

/**
 * Matched pairs of `{{ }}` or `[[ ]]` in `s`, outermost first; unmatched tokens are ignored. Tokens are found by
 * a native regex scan; matches do not overlap, so `{{{` is one token and a brace, and `}}}}` two tokens.
 */
const TOKENS: Record<string, RegExp> = { '{{': /\{\{|\}\}/g, '[[': /\[\[|\]\]/g };
function outermostPairsOf(s: string, open: '{{' | '[['): Array<[number, number]> {
  const re = TOKENS[open]!;
  re.lastIndex = 0;
  const stackOf: number[] = [];
  const pairs: Array<[number, number]> = [];
  const o1 = open.charCodeAt(1);
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const at = m.index;
    if (s.charCodeAt(at + 1) === o1 && s.charCodeAt(at) === open.charCodeAt(0)) stackOf.push(at);
    else if (stackOf.length > 0) pairs.push([stackOf.pop()!, at + 2]);
  }
  pairs.sort((x, y) => x[0] - y[0]);
  const outer: Array<[number, number]> = [];
  for (const p of pairs) if (outer.length === 0 || p[0] >= outer[outer.length - 1]![1]) outer.push(p);
  return outer;
}

/** Splits at top-level `|` (not inside nested `{{ }}` or `[[ ]]`). */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let k = 0; k < s.length; k++) {
    const c = s[k];
    const n = s[k + 1];
    if ((c === '{' && n === '{') || (c === '[' && n === '[')) {
      depth++;
      k++;
    } else if ((c === '}' && n === '}') || (c === ']' && n === ']')) {
      depth = Math.max(0, depth - 1);
      k++;
    } else if (c === '|' && depth === 0) {
      out.push(s.slice(from, k));
      from = k + 1;
    }
  }
  out.push(s.slice(from));
  return out;
}

const RANGE_WORDS = new Set(['-', '–', 'to', 'and', 'or', 'x', 'by', '+/-', '±']);

type TemplateRenderer = (positional: readonly string[]) => string;
const lastArg: TemplateRenderer = (p) => removeTemplates(p[p.length - 1] ?? '');
const firstArg: TemplateRenderer = (p) => removeTemplates(p[0] ?? '');
const convert: TemplateRenderer = (p) => {
  const arg = (k: number) => p[k] ?? '';
  if (RANGE_WORDS.has(arg(1))) return `${arg(0)} ${arg(1)} ${arg(2)} ${arg(3)}`.trim();
  return `${arg(0)} ${arg(1)}`.trim();
};
const fraction: TemplateRenderer = (p) => {
  const arg = (k: number) => p[k] ?? '';
  return p.length === 3 ? `${arg(0)} ${arg(1)}/${arg(2)}` : p.length === 2 ? `${arg(0)}/${arg(1)}` : arg(0);
};
/** Inline templates whose output is part of the sentence; everything else renders as nothing. */
const TEMPLATE_RENDERERS = new Map<string, TemplateRenderer>([
  ...['lang', 'transl', 'transliteration'].map((name) => [name, lastArg] as const),
  ...['nowrap', 'nobr', 'small', 'smaller', 'big', 'larger', 'ill', 'interlanguage link', 'abbr', 'sic', 'korean', 'nihongo', 'vi-nom'].map(
    (name) => [name, firstArg] as const,
  ),
  ['convert', convert],
  ['cvt', convert],
  ['frac', fraction],
  ['fraction', fraction],
]);

function templateName(first: string): string {
  return first.trim().toLowerCase().replace(/_/g, ' ');
}

function templateRenderer(name: string): TemplateRenderer | undefined {
  return TEMPLATE_RENDERERS.get(name) ?? (name.startsWith('lang-') ? firstArg : undefined);
}

function positionalArgs(parts: readonly string[]): string[] {
  return parts.slice(1).filter((p) => !/^\s*[^=|{}[\]]+=/.test(p)).map((p) => p.trim());
}

function renderTemplate(body: string): string {
  const parts = splitArgs(body);
  const render = templateRenderer(templateName(parts[0]!));
  return render ? render(positionalArgs(parts)) : '';
}

/** Removes templates, parser functions and template parameters (`{{…}}`, `{{{…}}}`), with nesting. */
export function removeTemplates(s: string): string {
  if (s.indexOf('{{') < 0) return s;
  const pairs = outermostPairsOf(s, '{{');
  if (pairs.length === 0) return s;
  let out = '';
  let from = 0;
  for (const [a, b] of pairs) {
    out += s.slice(from, a);
    const body = s.slice(a + 2, b - 2);
    out += body.startsWith('{') ? '' : renderTemplate(body);
    from = b;
  }
  return out + s.slice(from);
}

function renderLinks(s: string, files: ReadonlySet<string>, categories: ReadonlySet<string>): string {
  if (s.indexOf('[[') < 0) return s;
  const pairs = outermostPairsOf(s, '[[');
  let out = '';
  let from = 0;
  for (const [a, b] of pairs) {
    out += s.slice(from, a);
    out += renderLink(s.slice(a + 2, b - 2), files, categories);
    from = b;
  }
  return out + s.slice(from);
}

function renderLink(inner: string, files: ReadonlySet<string>, categories: ReadonlySet<string>): string {
  const parts = splitArgs(inner);
  let target = parts[0]!.trim();
  const colonLink = target.startsWith(':');
  if (colonLink) target = target.slice(1).trim();
  const colon = target.indexOf(':');
  if (!colonLink && colon > 0) {
    const prefix = target.slice(0, colon).trim().toLowerCase().replace(/_/g, ' ');
    if (files.has(prefix) || categories.has(prefix) || LANGUAGE_CODES.has(prefix)) return '';
    // Namespace aliases are not in the dump (`Attēls:` for File on lvwiki): image options or a media file
    // extension give a file link away.
    if (MEDIA_FILE.test(target) || parts.slice(1).some((p) => IMAGE_OPTION.test(p.trim()))) return '';
  }
  if (parts.length > 1) {
    const label = parts.slice(1).join('|').trim();
    if (label) return renderLinks(label, files, categories);
  }
  return target.replace(/_/g, ' ');
}

const MEDIA_FILE = /\.(?:jpe?g|png|gif|svg|tiff?|webp|ogg|oga|ogv|webm|mp3|mp4|wav|flac|mid|pdf|djvu|stl)$/i;
const IMAGE_OPTION = /^(?:thumb|thumbnail|frame|framed|frameless|border|left|right|center|centre|none|baseline|upright(?:\s*=.*)?|\d*(?:x\d+)?\s*px|alt\s*=.*|link\s*=.*|page\s*=.*|class\s*=.*|lang\s*=.*)$/i;
