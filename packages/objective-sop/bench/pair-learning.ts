/**
 * How soon a tiny encoder learns the pair tasks (next-sentence and sentence-order prediction) from scratch on real
 * text: the measurements behind docs/fine-tuning.md ("the [CLS] plateau") and the objective training tests.
 * Trains the pair objective alone (or with mlm) through `trainOnFixture` (token shards, documents shuffled every
 * epoch) and prints the validation rows, with the share of label 1 so accuracy can be read against the majority.
 *
 *   npx tsx --conditions=@pretext/source bench/pair-learning.ts [--obj nsp|sop] [--mlm] [--steps 400] [--lr 3e-3]
 *     [--init 0.125] [--preln] [--d 64] [--layers 2] [--seq 64] [--batch 16] [--every 100] [--single skip]
 *     [--corpus books|multi|enwiki|balanced|topics|order|files] [--langs en,ltg] [--files a.txt,b.txt] [--vocab 300]
 *     [--spd 8] [--seed 5]
 *
 * `--corpus multi` adds the Wikipedia excerpts of the shared corpora (Bulgarian, English, Latgalian, Vietnamese) to
 * the books, so a random B is often in another language; `enwiki` is the English excerpt alone; `balanced` takes as
 * many documents of each language in `--langs` (default all four) as the smallest has; `topics` is topicCorpus
 * (synthetic documents whose every token shows their topic: the pair signal without real text's sparsity); `order` is
 * topicCorpus by position (sentence i draws from topic i, so segment order shows); `files` reads the `--files` (paths
 * in the shared corpora; Gutenberg licence text stripped) and takes as many documents of each as the smallest has.
 */
import { nsp } from '@pretext/objective-nsp';
import { mlm } from '@pretext/objective-mlm';
import { FIXTURE_BOOKS, fixtureCorpus, gutenbergBody, sharedCorporaDir, topicCorpus, trainOnFixture } from '@pretext/objective-testing';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sop } from '../src/sop.js';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const opt = (name: string, fallback: string) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1]! : fallback);
const num = (name: string, fallback: number) => Number(opt(name, String(fallback)));

const corporaDir = sharedCorporaDir(import.meta.url);
const texts: { id: string; text: string }[] = FIXTURE_BOOKS.map((rel) => ({ id: rel, text: gutenbergBody(readFileSync(path.join(corporaDir, rel), 'utf8')) }));
const which = opt('corpus', 'books');
if (which !== 'books' && which !== 'multi') texts.length = 0;
if (which === 'files') {
  for (const rel of opt('files', '').split(',').filter(Boolean)) {
    texts.push({ id: `${path.basename(rel)}:0`, text: gutenbergBody(readFileSync(path.join(corporaDir, rel), 'utf8')) });
  }
} else if (which !== 'books' && which !== 'topics' && which !== 'order') {
  const { planWikipedia, readWikipedia } = await import('@pretext/ingest-wikipedia');
  const dumps: Record<string, string> = {
    bg: 'wikipedia/gensim/bgwiki-latest-pages-articles-shortened.xml.bz2',
    en: 'wikipedia/gensim/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2',
    vi: 'wikipedia/wikiextractor-viwiki/test.xml',
    ltg: 'wikipedia/dumpster-dive/smallwiki-latest-pages-articles.xml',
  };
  const languages = which === 'enwiki' ? ['en'] : opt('langs', Object.keys(dumps).join(',')).split(',');
  // The excerpts are cut mid-dump: their last page is incomplete, which the reader reports and skips.
  for (const lang of languages) {
    for (const unit of await planWikipedia(path.join(corporaDir, dumps[lang]!))) for await (const d of readWikipedia(unit, { onError: () => {} })) texts.push({ id: `${lang}:${d.id}`, text: d.text });
  }
}
let corpus = which === 'topics' || which === 'order' ? topicCorpus({ seed: num('seed', 5), topicBy: which === 'order' ? 'position' : 'document' }) : fixtureCorpus(texts, { vocabWords: num('vocab', 300), sentencesPerDocument: num('spd', 8) });
if (which === 'balanced' || which === 'files') {
  // As many documents of each language as the smallest has, interleaved.
  const byLang = new Map<string, (typeof corpus.documents)[number][]>();
  for (const doc of corpus.documents) {
    const lang = doc.id.slice(0, doc.id.indexOf(':'));
    const docs = byLang.get(lang) ?? [];
    docs.push(doc);
    byLang.set(lang, docs);
  }
  const n = Math.min(...[...byLang.values()].map((docs) => docs.length));
  const documents = Array.from({ length: n }, (_, i) => [...byLang.values()].map((docs) => docs[i]!)).flat();
  console.log(`balanced: ${n} documents per language (${[...byLang].map(([l, d]) => `${l} ${d.length}`).join(', ')})`);
  corpus = { ...corpus, documents };
}
const single = opt('single', 'random-document') as 'random-document' | 'skip';
const task = opt('obj', 'nsp');
const pair = task === 'nsp' ? nsp({ singleSegment: single }) : sop({ singleSegment: single });
const d = num('d', 64);
const seq = num('seq', 64);
const steps = num('steps', 400);
const started = performance.now();
const { validation } = await trainOnFixture({
  corpus,
  objectives: flag('mlm') ? [mlm(), pair] : [pair],
  model: { architecture: 'encoder', dModel: d, nLayers: num('layers', 2), nHeads: 2, dFF: 2 * d, maxPositions: seq, dropout: 0, typeVocabSize: 2, preLayerNorm: flag('preln'), initializerRange: num('init', 0.02) },
  seqLen: seq,
  batchSize: num('batch', 16),
  maxSteps: steps,
  learningRate: num('lr', 2e-3),
  warmupSteps: Math.min(20, Math.ceil(steps / 10)),
  evalEvery: num('every', 100),
  evalBatches: num('evalb', 16),
  checkpointEvery: 1_000_000,
  seed: num('seed', 5),
});
console.log(`${corpus.documents.length} documents; ${task}${flag('mlm') ? ' + mlm' : ''}, ${steps} steps in ${((performance.now() - started) / 1000).toFixed(0)} s`);
console.log('step  loss    accuracy');
for (const row of validation) console.log(`${String(row['step']).padEnd(5)} ${Number(row[`${task}.${task}`]).toFixed(4)}  ${Number(row[`${task}.accuracy`]).toFixed(4)}`);
console.log('(accuracy at the majority class means nothing was learned: with single-segment chunks labelled 1, label 1 is the majority)');
