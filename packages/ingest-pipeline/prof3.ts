import { readFileSync, writeFileSync, statSync } from 'node:fs';
import { processUnit } from './src/process.ts';
import { resolveFilters, resolveDedup } from './src/config.ts';
import { readCommonCrawl } from '@pretext/ingest-commoncrawl';
const src = readFileSync('/work/shared/corpora/commoncrawl/cc/whirlwind-python/whirlwind.warc.wet.gz');
writeFileSync('/tmp/wet1500.gz', Buffer.concat(Array.from({ length: 1500 }, () => src)));
const size = statSync('/tmp/wet1500.gz').size;
let t = performance.now(); let n = 0;
for await (const d of readCommonCrawl('/tmp/wet1500.gz')) n++;
console.log('read only', (performance.now() - t).toFixed(0), 'ms', n);
for (const [name, filters] of [['none', { length: false, language: false, gopherQuality: false, gopherRepetition: false }], ['length', { language: false, gopherQuality: false, gopherRepetition: false }], ['+lid', { gopherQuality: false, gopherRepetition: false }], ['+quality', { gopherRepetition: false }], ['all', {}]] as const) {
  for (const near of [false, true]) {
    t = performance.now();
    const r = await processUnit({ unit: { ordinal: 0, kind: 'commoncrawl', file: '/tmp/wet1500.gz', relative: 'x', start: 0, end: size, index: 0 }, filters: resolveFilters('commoncrawl', filters as any), dedup: resolveDedup({ near }), strict: false, rejectsSample: 1000 });
    console.log(name, 'near', near, (performance.now() - t).toFixed(0), 'ms', r.docs.length);
  }
}
