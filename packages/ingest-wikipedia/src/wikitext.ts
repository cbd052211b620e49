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
 * Written here because the wikitext parsers on npm build an AST per page: wtf_wikipedia measured 5.9× slower
 * per article than these string passes on the enwiki sample (bench/throughput.ts prints both).
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

/** Removes `<!-- … -->` (an unclosed comment runs to the end, as in MediaWiki). */
function removeComments(s: string): string {
  let at = s.indexOf('<!--');
  if (at < 0) return s;
  let out = '';
  let from = 0;
  while (at >= 0) {
    out += s.slice(from, at);
    const end = s.indexOf('-->', at + 4);
    if (end < 0) return out;
    from = end + 3;
    at = s.indexOf('<!--', from);
  }
  return out + s.slice(from);
}

const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*?(\/?)>/y;

/** True if `s` has the tag name `name` (lower-case) at `at`, case-insensitively, not followed by a name char. */
function nameAt(s: string, at: number, name: string): boolean {
  for (let k = 0; k < name.length; k++) if ((s.charCodeAt(at + k) | 0x20) !== name.charCodeAt(k)) return false;
  const next = s.charCodeAt(at + name.length);
  return !((next >= 48 && next <= 57) || ((next | 0x20) >= 97 && (next | 0x20) <= 122));
}

/** Index of the `</name` closing the element opened before `from` (same-name nesting counted), or -1. */
function findClose(s: string, name: string, from: number): number {
  let depth = 1;
  for (let k = s.indexOf('<', from); k >= 0; k = s.indexOf('<', k + 1)) {
    if (s.charCodeAt(k + 1) === 47 /* / */) {
      if (nameAt(s, k + 2, name) && --depth === 0) return k;
    } else if (nameAt(s, k + 1, name)) {
      // A nested element of the same name, unless it closes itself.
      const gt = s.indexOf('>', k);
      if (gt > 0 && s.charCodeAt(gt - 1) !== 47) depth++;
    }
  }
  return -1;
}

/** Drops non-prose elements with their content and unwraps the rest. Text that only looks like `<` stays. */
function stripTags(s: string): string {
  if (s.indexOf('<') < 0) return s;
  let out = '';
  let from = 0;
  let at = s.indexOf('<');
  // Names whose closing tag was searched for and not found: no later search can succeed either.
  const unclosed = new Set<string>();
  while (at >= 0) {
    TAG.lastIndex = at;
    const m = TAG.exec(s);
    if (!m) {
      at = s.indexOf('<', at + 1);
      continue;
    }
    const name = m[2]!.toLowerCase();
    const closing = m[1] === '/';
    const selfClosing = m[3] === '/';
    const tagEnd = at + m[0].length;
    if (DROP_CONTENT.has(name)) {
      out += s.slice(from, at);
      from = tagEnd;
      if (!closing && !selfClosing && !unclosed.has(name)) {
        const close = findClose(s, name, tagEnd);
        if (close < 0) unclosed.add(name); // unclosed: drop the tag alone
        else {
          const gt = s.indexOf('>', close);
          from = gt < 0 ? s.length : gt + 1;
        }
      }
      at = s.indexOf('<', from);
      continue;
    }
    if (KEEP_CONTENT.has(name)) {
      out += s.slice(from, at) + (name === 'br' || name === 'p' || name === 'li' || name === 'dd' || name === 'dt' ? '\n' : '');
      from = tagEnd;
    }
    at = s.indexOf('<', Math.max(from, at + 1));
  }
  return out + s.slice(from);
}

const TOKENS: Record<string, RegExp> = {
  '{{': /\{\{|\}\}/g,
  '[[': /\[\[|\]\]/g,
  // Table delimiters count only at the start of a line (after spaces or `:` indentation).
  '{|': /^[ \t:]*(?:\{\||\|\})/gm,
};

/**
 * Matched pairs of `open`/`close` (two-character tokens), outermost first; unmatched tokens are ignored.
 * Tokens are found by a native regex scan, so the JavaScript loop runs once per token, not per character;
 * matches do not overlap, so `{{{` is one token and a brace, and `}}}}` two tokens.
 */
function outermostPairs(s: string, open: '{{' | '[[' | '{|'): Array<[number, number]> {
  const re = TOKENS[open]!;
  re.lastIndex = 0;
  const stack: number[] = [];
  const pairs: Array<[number, number]> = [];
  const o1 = open.charCodeAt(1);
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const at = m.index + m[0].length - 2; // the two token characters
    if (s.charCodeAt(at + 1) === o1 && s.charCodeAt(at) === open.charCodeAt(0)) stack.push(at);
    else if (stack.length > 0) pairs.push([stack.pop()!, at + 2]);
  }
  pairs.sort((a, b) => a[0] - b[0]);
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

/** Inline templates whose output is part of the sentence; everything else renders as nothing. */
function renderTemplate(body: string): string {
  const parts = splitArgs(body);
  const name = parts[0]!.trim().toLowerCase().replace(/_/g, ' ');
  const positional = parts.slice(1).filter((p) => !/^\s*[^=|{}[\]]+=/.test(p)).map((p) => p.trim());
  const arg = (k: number) => positional[k] ?? '';
  switch (name) {
    case 'lang':
    case 'transl':
    case 'transliteration':
      return removeTemplates(positional[positional.length - 1] ?? '');
    case 'nowrap':
    case 'nobr':
    case 'small':
    case 'smaller':
    case 'big':
    case 'larger':
    case 'ill':
    case 'interlanguage link':
    case 'abbr':
    case 'sic':
    case 'korean':
    case 'nihongo':
    case 'vi-nom':
      return removeTemplates(arg(0));
    case 'convert':
    case 'cvt': {
      if (RANGE_WORDS.has(arg(1))) return `${arg(0)} ${arg(1)} ${arg(2)} ${arg(3)}`.trim();
      return `${arg(0)} ${arg(1)}`.trim();
    }
    case 'frac':
    case 'fraction':
      return positional.length === 3 ? `${arg(0)} ${arg(1)}/${arg(2)}` : positional.length === 2 ? `${arg(0)}/${arg(1)}` : arg(0);
    default:
      if (name.startsWith('lang-')) return removeTemplates(arg(0));
      return '';
  }
}

/** Removes templates, parser functions and template parameters (`{{…}}`, `{{{…}}}`), with nesting. */
export function removeTemplates(s: string): string {
  if (s.indexOf('{{') < 0) return s;
  const pairs = outermostPairs(s, '{{');
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

function removeTables(s: string): string {
  if (s.indexOf('{|') < 0) return s;
  const pairs = outermostPairs(s, '{|');
  let out = '';
  let from = 0;
  for (const [a, b] of pairs) {
    out += `${s.slice(from, a)}\n`;
    from = b;
  }
  return out + s.slice(from);
}

function renderLinks(s: string, files: ReadonlySet<string>, categories: ReadonlySet<string>): string {
  if (s.indexOf('[[') < 0) return s;
  const pairs = outermostPairs(s, '[[');
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
const EXTERNAL_LINK = /\[(?:https?:|ftp:|mailto:|news:|irc:|\/\/)[^\s\]]*(?:[ \t]+([^\]\n]*))?\]/g;
const HEADING = /^(={1,6})\s*(.+?)\s*\1\s*$/;

export function wikitextToText(src: string, options: WikitextOptions = {}): string {
  const files = new Set(['file', 'image', 'media', ...(options.fileNamespaces ?? []).map((n) => n.toLowerCase())]);
  const categories = new Set(['category', ...(options.categoryNamespaces ?? []).map((n) => n.toLowerCase())]);
  let s = removeComments(src.replace(/\r\n?/g, '\n'));
  s = stripTags(s);
  s = removeTemplates(s);
  s = removeTables(s);
  s = renderLinks(s, files, categories);
  s = s.replace(EXTERNAL_LINK, (_, label: string | undefined) => label ?? '');
  s = s.replace(/'{2,}/g, '');
  s = s.replace(/__[A-Z]+__/g, '');

  // Lines → blocks: headings, list items and paragraphs (single newlines inside a paragraph are spaces).
  const blocks: Array<{ text: string; heading: boolean; level: number }> = [];
  let paragraph: string[] = [];
  const endParagraph = () => {
    if (paragraph.length) blocks.push({ text: paragraph.join(' '), heading: false, level: 0 });
    paragraph = [];
  };
  for (const raw of s.split('\n')) {
    const line = raw.trim();
    const c = line.charCodeAt(0);
    if (line === '' || (c === 45 /* - */ && /^-{4,}$/.test(line))) {
      endParagraph();
      continue;
    }
    const h = c === 61 /* = */ ? HEADING.exec(line) : null;
    if (h) {
      endParagraph();
      blocks.push({ text: h[2]!.trim(), heading: true, level: h[1]!.length });
      continue;
    }
    // Table rows and cells left by broken tables.
    if (line[0] === '|' || line[0] === '!' || line.startsWith('{|')) continue;
    const list = c === 42 || c === 35 || c === 58 || c === 59 ? /^[*#:;]+\s*/.exec(line) : null;
    if (list) {
      endParagraph();
      blocks.push({ text: line.slice(list[0].length), heading: false, level: 0 });
      continue;
    }
    paragraph.push(line);
  }
  endParagraph();

  // Clean all blocks in one pass over the joined text (the rewrites never cross a newline, so line k is still
  // block k): entities, then brackets and separators left behind by removed templates ("( )", "(; born …").
  let joined = blocks.map((b) => b.text).join('\n');
  if (joined.includes('&')) {
    joined = decodeHTML(joined);
    // `&#10;` and friends decode to line breaks: keep one line per block.
    if (joined.split('\n').length !== blocks.length) joined = blocks.map((b) => decodeHTML(b.text).replace(/[\r\n]+/g, ' ')).join('\n');
  }
  if (joined.includes('\u00a0') || joined.includes('\u2009') || joined.includes('\u202f')) joined = joined.replace(/[\u00a0\u2009\u202f]/g, ' ');
  if (joined.includes('(')) joined = joined.replace(/\([ \t]*(?:[,;:–—-]?[ \t]*\)|[,;][ \t]+|[ \t]+)/g, (m) => (m.endsWith(')') ? '' : '('));
  joined = joined.replace(/[ \t]{2,}/g, ' ').replace(/[ \t]+([,.;:!?)])/g, '$1');
  const cleanedLines = joined.split('\n');
  const cleaned = blocks.map((b, k) => {
    const text = cleanedLines[k]!.trim();
    return { text: /^[\s,.;:()\-–—]*$/.test(text) ? '' : text, heading: b.heading, level: b.level };
  });
  const lines: string[] = [];
  for (let k = 0; k < cleaned.length; k++) {
    const b = cleaned[k]!;
    if (!b.text) continue;
    if (b.heading) {
      // A heading is kept only when text follows it in its section (subsections included).
      let hasBody = false;
      for (let j = k + 1; j < cleaned.length && !(cleaned[j]!.heading && cleaned[j]!.level <= b.level); j++) {
        if (cleaned[j]!.text && !cleaned[j]!.heading) {
          hasBody = true;
          break;
        }
      }
      if (!hasBody) continue;
    }
    lines.push(b.text);
  }
  return lines.join('\n');
}

