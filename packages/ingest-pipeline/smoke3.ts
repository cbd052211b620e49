import { ingest } from './src/index.ts';
import { readWikipedia } from '@pretext/ingest-wikipedia';
let t = performance.now();
let n = 0;
for (const f of ['gensim/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2', 'dumpster-dive/smallwiki-latest-pages-articles.xml']) {
  t = performance.now(); n = 0;
  for await (const d of readWikipedia('/work/shared/corpora/wikipedia/' + f, { onError: () => {} })) n++;
  console.log(f, 'read only ms', (performance.now() - t).toFixed(0), n);
}
for (const filters of [{ language: false, gopherQuality: false, gopherRepetition: false }, {}] as any[]) {
  t = performance.now();
  const r = await ingest({ kind: 'wikipedia', inputs: ['/work/shared/corpora/wikipedia'], outDir: '/tmp/o-s3', workers: 1, filters, unitBytes: Number(process.env.UB ?? 0) || undefined });
  console.log(JSON.stringify(filters), 'ms', (performance.now() - t).toFixed(0), r.stats.read, r.stats.units);
}
