import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RecordBatchReader, tableFromArrays, tableFromIPC, tableToIPC } from 'apache-arrow';
import { afterEach, describe, expect, it } from 'vitest';
import { ManifestError, ShardIntegrityError, ShardSchemaError, type Document } from '@pretext/core';
import { readDocumentTexts, readDocuments, readManifest, verifyShards, writeDocuments, type MetaField } from './index.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pretext-shards-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const META: MetaField[] = [
  { name: 'title', type: 'utf8' },
  { name: 'year', type: 'int64' },
  { name: 'score', type: 'float64' },
];

/** Varied documents: multi-byte text, empty text, missing and null meta values. */
function makeDocs(n: number): Document[] {
  const words = ['whale', 'Ishmael', 'naïve', 'Straße', '吾輩は猫である', 'ἀρχή', '🐋', 'sea'];
  return Array.from({ length: n }, (_, i) => ({
    id: `doc-${i}`,
    text: i % 17 === 5 ? '' : Array.from({ length: 20 + (i % 50) }, (_, j) => words[(i * 7 + j) % words.length]).join(' ') + '\n\nEnd.',
    source: i % 3 === 0 ? 'books' : 'wikipedia',
    meta: {
      title: i % 4 === 1 ? null : `Title ${i}`,
      ...(i % 5 === 2 ? {} : { year: 1800 + i }),
      score: i % 6 === 3 ? undefined : i / 7,
    },
  }));
}

function expectedMeta(d: Document): Record<string, string | number> {
  return Object.fromEntries(Object.entries(d.meta ?? {}).filter(([, v]) => v !== null && v !== undefined)) as Record<string, string | number>;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('writeDocuments / readDocuments', () => {
  it('round-trips documents with meta across several shards and batches', async () => {
    const dir = await tempDir();
    const docs = makeDocs(500);
    const progress: number[] = [];
    const manifest = await writeDocuments(docs, {
      outDir: dir,
      metaFields: META,
      settings: { tool: 'test', inputs: ['x'] },
      maxShardBytes: 20_000,
      maxBatchBytes: 4_000,
      onProgress: (p) => progress.push(p.rows),
    });
    expect(manifest.rows).toBe(500);
    expect(manifest.shards.length).toBeGreaterThan(3);
    expect(manifest.shards.map((s) => s.file)).toEqual(manifest.shards.map((_, i) => `part-${String(i).padStart(5, '0')}.arrow`));
    expect(manifest.shards.reduce((n, s) => n + s.rows, 0)).toBe(500);
    expect(manifest.bytes).toBe(manifest.shards.reduce((n, s) => n + s.bytes, 0));
    expect(manifest.settings).toEqual({ tool: 'test', inputs: ['x'] });
    const textBytes = docs.reduce((n, d) => n + Buffer.byteLength(d.text), 0);
    expect(manifest.stats).toEqual({ documents: 500, textBytes });
    expect(progress.at(-1)).toBe(500);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(await readManifest(dir)).toEqual(manifest);

    const back = await collect(readDocuments(dir, { verify: true }));
    expect(back.length).toBe(500);
    back.forEach((d, i) => {
      const src = docs[i]!;
      expect(d.id).toBe(src.id);
      expect(d.text).toBe(src.text);
      expect(d.source).toBe(src.source);
      expect(d.meta).toEqual(expectedMeta(src));
    });
  });

  it('readDocumentTexts gives the ids and the UTF-8 bytes of the texts, batch by batch, without decoding them', async () => {
    const dir = await tempDir();
    const docs = makeDocs(300);
    await writeDocuments(docs, { outDir: dir, metaFields: META, maxShardBytes: 20_000, maxBatchBytes: 4_000 });
    const batches = await collect(readDocumentTexts(dir));
    expect(batches.length).toBeGreaterThan(3);
    const ids: string[] = [];
    const texts: string[] = [];
    for (const b of batches) {
      expect(b.offsets.length).toBe(b.ids.length + 1);
      expect(b.offsets[0]).toBe(0);
      expect(b.offsets[b.ids.length]).toBe(b.texts.length);
      ids.push(...b.ids);
      for (let i = 0; i < b.ids.length; i++) texts.push(Buffer.from(b.texts.subarray(b.offsets[i]!, b.offsets[i + 1]!)).toString('utf8'));
    }
    expect(ids).toEqual(docs.map((d) => d.id));
    expect(texts).toEqual(docs.map((d) => d.text));
  });

  it('gives byte-identical shards and manifest for identical input', async () => {
    const [a, b] = [await tempDir(), await tempDir()];
    async function* gen() {
      yield* makeDocs(300);
    }
    await writeDocuments(makeDocs(300), { outDir: a, metaFields: META, maxShardBytes: 30_000, settings: { seed: 1 } });
    await writeDocuments(gen(), { outDir: b, metaFields: META, maxShardBytes: 30_000, settings: { seed: 1 } });
    const files = (await readdir(a)).sort();
    expect((await readdir(b)).sort()).toEqual(files);
    expect(files).toContain('manifest.json');
    for (const f of files) expect(Buffer.compare(await readFile(path.join(a, f)), await readFile(path.join(b, f)))).toBe(0);
  });

  it('writes Arrow IPC files that plain apache-arrow readers open, with the documented schema', async () => {
    const dir = await tempDir();
    const docs = makeDocs(40);
    const manifest = await writeDocuments(docs, { outDir: dir, metaFields: META, maxBatchRows: 16 });
    expect(manifest.schema).toEqual([
      { name: 'id', type: 'Utf8', nullable: false },
      { name: 'text', type: 'Utf8', nullable: false },
      { name: 'source', type: 'Utf8', nullable: false },
      { name: 'title', type: 'Utf8', nullable: true },
      { name: 'year', type: 'Int64', nullable: true },
      { name: 'score', type: 'Float64', nullable: true },
    ]);
    const bytes = await readFile(path.join(dir, 'part-00000.arrow'));
    expect(bytes.subarray(0, 6).toString('latin1')).toBe('ARROW1');
    const table = tableFromIPC(bytes);
    expect(table.numRows).toBe(40);
    expect(table.batches.length).toBe(3); // 16 + 16 + 8 rows
    expect(table.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(['id:Utf8', 'text:Utf8', 'source:Utf8', 'title:Utf8', 'year:Int64', 'score:Float64']);
    expect(table.getChild('text')!.get(7)).toBe(docs[7]!.text);
    expect(table.getChild('title')!.get(1)).toBeNull();
    expect(table.getChild('year')!.get(3)).toBe(1803n);
    const reader = await RecordBatchReader.from(bytes);
    let rows = 0;
    for (const batch of reader) rows += batch.numRows;
    expect(rows).toBe(40);
  });

  it('writes an empty manifest for no documents and rejects bad options and documents', async () => {
    const dir = await tempDir();
    const m = await writeDocuments([], { outDir: dir });
    expect(m.shards).toEqual([]);
    expect(await collect(readDocuments(dir))).toEqual([]);
    await expect(writeDocuments([], { outDir: dir, metaFields: [{ name: 'text', type: 'utf8' }] })).rejects.toThrow(/unique names/);
    await expect(writeDocuments([], { outDir: dir, maxShardBytes: 0 })).rejects.toThrow(/maxShardBytes=0/);
    await expect(
      writeDocuments([{ id: 'a', text: 'x', source: 's', meta: { year: 'MDCCC' } }], { outDir: dir, metaFields: [{ name: 'year', type: 'int64' }] }),
    ).rejects.toThrow(/meta.year of document a="MDCCC" is invalid: expected an integer/);
  });
});

describe('validation on read', () => {
  it('ManifestError when the manifest is missing, not JSON, or of the other kind', async () => {
    const dir = await tempDir();
    await expect(readManifest(dir)).rejects.toBeInstanceOf(ManifestError);
    await expect(collect(readDocuments(path.join(dir, 'nope')))).rejects.toThrow(/no manifest.json/);
    await writeFile(path.join(dir, 'manifest.json'), '{"format": "pretext-shards", ');
    await expect(readManifest(dir)).rejects.toThrow(/not valid JSON/);
  });

  it('ShardSchemaError when a shard does not carry the manifest schema', async () => {
    const dir = await tempDir();
    await writeDocuments(makeDocs(10), { outDir: dir });
    const foreign = tableToIPC(tableFromArrays({ id: ['a'], body: ['text'], source: ['s'] }), 'file');
    await writeFile(path.join(dir, 'part-00000.arrow'), foreign);
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
    manifest.shards[0].bytes = foreign.byteLength;
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    const error = await collect(readDocuments(dir)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShardSchemaError);
    expect((error as ShardSchemaError).file).toBe(path.join(dir, 'part-00000.arrow'));
    expect((error as ShardSchemaError).expected).toBe('id:Utf8, text:Utf8, source:Utf8');
    expect((error as ShardSchemaError).actual).toMatch(/^id:.*, body:.*, source:/);

    manifest.schema[1].name = 'body';
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    await expect(collect(readDocuments(dir))).rejects.toBeInstanceOf(ShardSchemaError);
  });

  it('ShardIntegrityError on one corrupted byte (verify) and on a truncated shard (always)', async () => {
    const dir = await tempDir();
    await writeDocuments(makeDocs(100), { outDir: dir, maxShardBytes: 10_000 });
    await verifyShards(dir);
    const file = path.join(dir, 'part-00001.arrow');
    const bytes = await readFile(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    await writeFile(file, bytes);
    const error = await verifyShards(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShardIntegrityError);
    expect((error as ShardIntegrityError).file).toBe(file);
    expect((error as Error).message).toMatch(/sha256/);
    await expect(collect(readDocuments(dir, { verify: true }))).rejects.toBeInstanceOf(ShardIntegrityError);
    await writeFile(file, bytes.subarray(0, bytes.length - 10));
    await expect(collect(readDocuments(dir))).rejects.toThrow(/bytes but the manifest records/);
  });
});

describe('atomic writes', () => {
  it('an input that fails mid-run leaves no manifest and no temporary file', async () => {
    const dir = await tempDir();
    await writeDocuments(makeDocs(20), { outDir: dir }); // a complete earlier run in the same folder
    async function* failing() {
      yield* makeDocs(200);
      throw new Error('input broke');
    }
    await expect(writeDocuments(failing(), { outDir: dir, maxShardBytes: 30_000 })).rejects.toThrow('input broke');
    const files = await readdir(dir);
    expect(files).not.toContain('manifest.json');
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await expect(collect(readDocuments(dir))).rejects.toBeInstanceOf(ManifestError);
  });

  it('a process killed mid-write leaves no manifest; resume then gives the bytes of an uninterrupted run', async () => {
    const dir = await tempDir();
    const index = fileURLToPath(new URL('./index.ts', import.meta.url));
    const out = path.join(dir, 'out');
    // Same documents in the child and here: ~1 kB each, 4000 of them, 200 kB shards.
    const genSource = `function* gen() { for (let i = 0; i < 4000; i++) yield { id: 'd' + i, text: ('w' + (i % 13) + ' ').repeat(250 + (i % 50)) + i, source: 's' }; }`;
    const gen = new Function(`${genSource}; return gen;`)() as () => Iterable<Document>;
    const options = { maxShardBytes: 200_000, maxBatchBytes: 10_000 };
    const script = path.join(dir, 'crash.mts');
    await writeFile(
      script,
      `import { writeDocuments } from ${JSON.stringify(index)};
       ${genSource}
       await writeDocuments(gen(), { outDir: ${JSON.stringify(out)}, ...${JSON.stringify(options)},
         onProgress: (p) => { process.stdout.write('rows ' + p.rows + '\\n'); } });`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@pretext/source', script], { cwd: path.dirname(index), stdio: ['ignore', 'pipe', 'inherit'] });
    // Kill it once it has finished a few shards and is inside the next one.
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        const rows = Math.max(...[...chunk.toString().matchAll(/rows (\d+)/g)].map((m) => Number(m[1])));
        if (rows >= 1000 && rows % 200 > 50) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', (code) => (code === null ? resolve() : reject(new Error(`writer exited with ${code} before it was killed`))));
    });
    await new Promise((r) => child.on('close', r));
    const left = (await readdir(out)).sort();
    expect(left).not.toContain('manifest.json');
    expect(left.filter((f) => /^part-\d{5}\.arrow$/.test(f)).length).toBeGreaterThanOrEqual(4);
    expect(left.some((f) => /^\.part-\d{5}\.arrow\.tmp$/.test(f))).toBe(true);
    await expect(readManifest(out)).rejects.toBeInstanceOf(ManifestError);

    const resumed = await writeDocuments(gen(), { outDir: out, ...options, resume: true });
    const fresh = path.join(dir, 'fresh');
    const uninterrupted = await writeDocuments(gen(), { outDir: fresh, ...options });
    expect(resumed).toEqual(uninterrupted);
    expect(resumed.rows).toBe(4000);
    const files = (await readdir(fresh)).sort();
    expect((await readdir(out)).sort()).toEqual(files);
    for (const f of files) expect(Buffer.compare(await readFile(path.join(out, f)), await readFile(path.join(fresh, f))), f).toBe(0);

    // A rerun without resume cleans the folder and starts over.
    await writeDocuments(makeDocs(5), { outDir: out });
    expect((await readdir(out)).sort()).toEqual(['manifest.json', 'part-00000.arrow']);
  });

  it('resume keeps only intact shards and refuses different input', async () => {
    const dir = await tempDir();
    const docs = makeDocs(300);
    const options = { metaFields: META, maxShardBytes: 20_000 };
    const full = await writeDocuments(docs, { outDir: dir, ...options });
    expect(full.shards.length).toBeGreaterThan(4);
    // Simulate a run that died after shard 3: no manifest, shard 3 truncated, shard 4 onward never written.
    await rm(path.join(dir, 'manifest.json'));
    const third = path.join(dir, 'part-00003.arrow');
    await writeFile(third, (await readFile(third)).subarray(0, 1000));
    for (const s of full.shards.slice(4)) await rm(path.join(dir, s.file));
    const again = await writeDocuments(docs, { outDir: dir, ...options, resume: true });
    expect(again).toEqual(full);
    await rm(path.join(dir, 'manifest.json'));
    const other = docs.map((d, i) => (i === 10 ? { ...d, id: 'changed' } : d));
    await expect(writeDocuments(other, { outDir: dir, ...options, resume: true })).rejects.toThrow(/resume=.* is invalid: expected the same input as the interrupted run \(the documents of part-00000.arrow differ\)/);
    await expect(writeDocuments(docs.slice(0, 5), { outDir: dir, ...options, resume: true })).rejects.toThrow(/the input ended after 5 documents/);
  });
});
