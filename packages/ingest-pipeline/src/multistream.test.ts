import { spawnSync } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readDocuments } from '@pretext/shards';
import { cleanTempDirs, corpus, tempDir } from './corpora.test-helper.js';
import { expandInputs, ingest, planUnits, resolveDedup, resolveFilters } from './index.js';
import { processUnit } from './process.js';

afterAll(cleanTempDirs);

function bzip2(data: Buffer): Buffer {
  const r = spawnSync('bzip2', ['-c', '-9'], { input: data, maxBuffer: 1 << 28 });
  if (r.status !== 0 || r.error) throw new Error(`this test builds a multistream dump with the bzip2 program (apt-get install bzip2): ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

async function ids(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const d of readDocuments(dir)) out.push(`${d.id} ${d.meta!.title}`);
  return out;
}

describe('wikipedia multistream', () => {
  it('pairs a dump with its index, cuts units at stream offsets, and reads the same documents as the plain XML', async () => {
    const root = await tempDir();
    // A multistream dump the way Wikimedia builds them: the header alone, then 100 pages per bz2 stream, then the end.
    const xml = await readFile(corpus('wikipedia/dumpster-dive/smallwiki-latest-pages-articles.xml'), 'utf8');
    const first = xml.indexOf('<page>');
    // The first 600 pages (6 streams) keep the test short.
    const pages = xml.slice(first, xml.lastIndexOf('</page>') + 7).split(/(?<=<\/page>)\s*/).slice(0, 600);
    const plainXml = path.join(await tempDir(), 'plain.xml');
    await writeFile(plainXml, `${xml.slice(0, first)}    ${pages.join('\n    ')}\n</mediawiki>\n`);
    const streams = [Buffer.from(xml.slice(0, first))];
    const index: string[] = [];
    let offset = bzip2(streams[0]!).length;
    const parts = [bzip2(streams[0]!)];
    for (let i = 0; i < pages.length; i += 100) {
      const group = pages.slice(i, i + 100);
      for (const p of group) index.push(`${offset}:${/<id>(\d+)<\/id>/.exec(p)![1]}:${/<title>([^<]*)<\/title>/.exec(p)![1]}`);
      const part = bzip2(Buffer.from(`    ${group.join('\n    ')}\n`));
      parts.push(part);
      offset += part.length;
    }
    parts.push(bzip2(Buffer.from('</mediawiki>\n')));
    const dump = path.join(root, 'ltgwiki-20170701-pages-articles-multistream.xml.bz2');
    await writeFile(dump, Buffer.concat(parts));
    await writeFile(path.join(root, 'ltgwiki-20170701-pages-articles-multistream-index.txt.bz2'), bzip2(Buffer.from(index.join('\n') + '\n')));

    const files = await expandInputs('wikipedia', [root]);
    expect(files.map((f) => path.basename(f.path))).toEqual(['ltgwiki-20170701-pages-articles-multistream.xml.bz2']);
    expect(files[0]!.index).toBe(path.join(root, 'ltgwiki-20170701-pages-articles-multistream-index.txt.bz2'));
    const plan = await planUnits('wikipedia', files, 30_000);
    expect(plan.units.length).toBeGreaterThan(3);
    const offsets = new Set(index.map((l) => Number(l.split(':')[0])));
    for (const u of plan.units.slice(1)) expect(offsets.has(u.start), `unit at ${u.start}`).toBe(true);

    const filters = { language: false as const, gopherQuality: false as const, gopherRepetition: false as const };
    const multi = await ingest({ kind: 'wikipedia', unitBytes: 30_000, filters, dedup: { exact: false, near: false }, inputs: [dump], outDir: path.join(root, 'multi'), workers: 2 });
    expect(multi.stats.units).toBe(plan.units.length);
    expect(multi.stats.errors.count).toBe(0);
    expect(multi.stats.kept).toBeGreaterThan(150);
    // The plain XML read whole, in this thread, with the same filters.
    const plain = await processUnit({
      unit: { ordinal: 0, kind: 'wikipedia', file: plainXml, relative: 'plain.xml', start: 0, end: (await stat(plainXml)).size, index: 0 },
      filters: resolveFilters('wikipedia', filters),
      dedup: resolveDedup({ near: false }),
      strict: true,
      rejectsSample: 0,
    });
    expect(await ids(path.join(root, 'multi'))).toEqual(plain.docs.map((d) => `${d.id} ${d.meta!.title}`));
  });
});
