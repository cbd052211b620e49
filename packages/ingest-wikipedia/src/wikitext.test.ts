import { describe, expect, it } from 'vitest';
import { wikitextToText } from './index.js';

// Snippets in the shapes the real dumps use (the dump tests cover whole pages).
describe('wikitextToText', () => {
  it('keeps link text and drops file, category and interlanguage links', () => {
    const src = [
      "'''Paris''' is the [[capital city|capital]] of [[France]].",
      '[[File:Paris Night.jpg|thumb|upright=1.2|The [[Eiffel Tower]] at night]]',
      '[[Category:Capitals in Europe]]',
      '[[de:Paris]]',
      '[[:Category:Cities|a category link shown inline]] stays.',
    ].join('\n');
    expect(wikitextToText(src)).toBe('Paris is the capital of France.\na category link shown inline stays.');
  });

  it('removes nested templates and references, renders inline ones', () => {
    const src =
      "{{Infobox city|name=Paris|population={{formatnum:2165423}}}}'''Paris''' ({{IPA-fr|paʁi|lang}}) covers {{convert|105.4|km2|sqmi}}.<ref name=\"a\">{{cite web|url=http://x}}</ref> It is {{lang|fr|la Ville Lumière}}.<ref name=\"a\"/>";
    expect(wikitextToText(src)).toBe('Paris covers 105.4 km2. It is la Ville Lumière.');
  });

  it('drops tables, comments and headings with nothing under them; decodes entities', () => {
    const src = [
      '== History ==',
      'Founded&nbsp;in 52&nbsp;BC &ndash; or so.<!-- hidden note -->',
      '{| class="wikitable"',
      '|-',
      '! Year !! Population',
      '|-',
      '| 1800 || 546,856',
      '|}',
      '=== Early ===',
      'A second line',
      'of one paragraph.',
      '== References ==',
      '<references />',
      '== See also ==',
      '* [[Île-de-France]]',
    ].join('\n');
    expect(wikitextToText(src)).toBe(
      ['History', 'Founded in 52 BC – or so.', 'Early', 'A second line of one paragraph.', 'See also', 'Île-de-France'].join('\n'),
    );
  });

  it('uses local namespace names from siteinfo', () => {
    const src = 'Teksts.\n[[Fails:Karte.png|Karte]]\n[[Kategoreja:Piemārs]]';
    expect(wikitextToText(src, { fileNamespaces: ['Fails'], categoryNamespaces: ['Kategoreja'] })).toBe('Teksts.');
  });

  it('keeps a decoded line break inside its paragraph', () => {
    expect(wikitextToText('== A ==\nOne&#10;two.\n== B ==\nThree.')).toBe('A\nOne two.\nB\nThree.');
  });

  it('survives unbalanced markup without losing the rest of the page', () => {
    expect(wikitextToText('Before {{broken template\n\nAfter [[link|text]].')).toBe('Before {{broken template\nAfter text.');
    expect(wikitextToText('A <ref>never closed. Still here.')).toBe('A never closed. Still here.');
  });
});

// Tricky shapes, with the output of the string-pass implementation the code-unit passes replaced (they must
// stay identical; both were also compared on every sample page and on fuzzed input).
const EQUIVALENCE: Array<[name: string, wikitext: string, text: string]> = [
  ['nested templates, a parameter and a rendered template inside a rendered one', 'A {{Infobox|x={{B|{{C}}}}|y=[[L|l]]}}b {{{1|default}}} c {{nowrap|{{lang|fr|d [[e]]}}}} f {{convert|3|to|5|km}}.', 'A b } c d e f 3 to 5 km.'],
  ['tables inside templates and templates inside tables', 'Before {{T|\n{| class=x\n| {{inner}} || cell\n|}\n}} after.\n{|\n| {{a|{|b|}}}\n|}\nEnd.', 'Before after.\nEnd.'],
  ['indented and nested tables; table tokens only at line starts', 'x {| not a table |}\n  :{|\n:: {|\n| in\n |}\n|}\nkept {|', 'x {| not a table |}\nkept {|'],
  ['references, self-closing and unclosed, with other tags', 'A<ref name="a">{{cite|x}}</ref> b<ref name=b/> c<REF>x</ref> d<ref>unclosed. <span>e</span><br/>f<div>g</div><math>x^2</math> h<nowiki>[[no]]</nowiki>.', 'A b c dunclosed. e fg hno.'],
  ['comments, one unclosed', 'a<!-- x\ny -->b <!-->c--> d<!--- e --->f <!-- open to the end', 'ab df'],
  ['unbalanced brackets and braces', 'a [[b [[c]] d]] e]] [[f {{g}} h}} i {{ j [[k|l]] ]] m [[ n', 'a b [[c]] d e]] f h}} i {{ j [[k|l]] m [[ n'],
  ['HTML entities (escaped ones stay escaped once), numeric references, legacy names without `;`', 'a &amp;lt;b&amp;gt; &lt;ref&gt;x&lt;/ref&gt; &amp;nbsp;c&#160;d &#x1F600; &#128512; &amp;#10; &amp;amp; &notin; &not &amp', 'a &lt;b&gt; <ref>x</ref> &nbsp;c d 😀 😀 &#10; &amp; ∉ ¬ &'],
  ['decoded line breaks inside blocks become spaces in every decoded block', '== H ==\nOne&#10;two &amp; three.\nFour &lt; five.\n* item &#13; x', 'H\nOne two & three. Four < five.\nitem x'],
  ['astral characters and lone surrogates', '𝔘𝔫𝔦 [[𝔠𝔬𝔡𝔢|𝔢]] \ud800 x \udc00 {{lang|x|😀}}', '𝔘𝔫𝔦 𝔢 \ud800 x \udc00 😀'],
  ['CRLF, CR and U+2028 line starts', 'a\r\nb\r\rc\u2028{|\n| t\n|}\u2029d\r\n{|\r\n|}\r\ne', 'a b\nc d\ne'],
  ['external links', "[http://a.b label ''x''] [https://c.d] [//e.f g h] [mailto:i@j k] [ftp:x] [news:y z\n] [irc:q\u00a0r] [http://s\tt u] [http://x]] [notalink y]", 'label x g h k [news:y z ] [irc:q r] t u ] [notalink y]'],
  ['parentheses and spaces left by removed templates', 'Paris ({{IPA|x}}) is ( ; born {{date}}) a city (, {{x}}) with  two   spaces , and ( ) and (– ) and (\u00a0) and (;x) and ( y) and\ttab !', 'Paris is (born) a city with two spaces, and and and and (;x) and (y) and\ttab!'],
  ['headings with and without text under them', '= A =\n== B ==\n=== C ===\ntext\n== D ==\n== E ==\n{{x}}\n=== F ===\n== G ==\nmore\n======= H =======\n=x=y\n== \u2028 ==\nz', 'A\nB\nC\ntext\nG\nmore\n= H =\n=x=y\nz'],
  ['lists, rules and leftover table rows', '* a\n** b\n#: c\n; d : e\n----\n-----x\n| row\n! head\n{|x\nf\n:\n*', 'a\nb\nc\nd: e\n-----x f'],
  ['bold, italics, behaviour switches and underscores', "'''b''' ''i'' '''''bi''''' it's __NOTOC__ ___TOC__ __X__Y__ _''_NOEDITSECTION__ a__b", "b i bi it's _ Y__ a__b"],
  ['file, category and interlanguage links, local names and aliases', '[[File:a.png|thumb|cap [[x]]]] [[Fails:b.jpg|Karte]] [[Attēls:c|thumb|250px|d]] [[Category:E]] [[Kategoreja:F]] [[de:G]] [[:Category:H|shown]] [[ :de:I ]] [[Ns:J|k]] [[L_M]] [[n|]] [[|o]]', 'shown de:I k L M n o'],
  ['tags that only look like tags', 'a <b_c> d < e > f <3 g </ h <x y="<"> i <ref>', 'a <b_c> d < e > f <3 g </ h <x y="<"> i'],
];

describe('wikitextToText output kept from the string passes', () => {
  it.each(EQUIVALENCE)('%s', (_, wikitext, text) => {
    expect(wikitextToText(wikitext, { fileNamespaces: ['Fails'], categoryNamespaces: ['Kategoreja'] })).toBe(text);
  });

  it('converts one page after another with the same result (the working arrays are reused)', () => {
    const big = EQUIVALENCE.map(([, wikitext]) => wikitext).join('\n\n').repeat(200);
    const first = wikitextToText(big);
    for (const [, wikitext] of EQUIVALENCE) wikitextToText(wikitext);
    expect(wikitextToText(big)).toBe(first);
    expect(wikitextToText('')).toBe('');
  });
});
