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
