import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, cp, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanTempDirs, corpus, tempDir } from './corpora.test-helper.js';
import { CHECKPOINT_FILE, ingest } from './index.js';

afterAll(cleanTempDirs);

describe('dedup signatures and resume', () => {
  it('a rank killed with SIGKILL and resumed writes the same signature and held files as an uninterrupted run', async () => {
    const root = await tempDir();
    const input = path.join(root, 'in');
    await cp(corpus('commoncrawl'), path.join(input, 'cc'), { recursive: true });
    await copyFile(corpus('commoncrawl/non-cc/dolma/sample-0000.warc.gz'), path.join(input, 'zz-copy.warc.gz'));
    const out = path.join(root, 'out');
    const index = fileURLToPath(new URL('./index.ts', import.meta.url));
    // 30 bands of 1 row: a low similarity threshold, so this small sample has near duplicates (held documents) too.
    // Small units and shards: many checkpoints, most of the run still ahead when the first appears.
    const options = { kind: 'commoncrawl' as const, inputs: [input], unitBytes: 8_000, maxShardBytes: 5_000, rank: 0, worldSize: 2, dedup: { bands: 30, rows: 1 } };
    const script = path.join(root, 'run.mts');
    await writeFile(
      script,
      `import { ingest } from ${JSON.stringify(index)};
       await ingest({ ...${JSON.stringify(options)}, outDir: ${JSON.stringify(out)}, workers: 2 });
       process.stdout.write('done\\n');`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@pretext/source', script], { cwd: path.dirname(index), stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (;;) {
      if (existsSync(path.join(out, CHECKPOINT_FILE))) {
        child.kill('SIGKILL');
        break;
      }
      if (await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 20))])) break;
    }
    expect(await exited, `the child finished before it was killed:\n${output}`).toBeNull();
    const left = await readdir(out);
    expect(left).toContain('.dedup-signatures.bin.tmp');
    expect(left).not.toContain('dedup-signatures.bin');

    const resumed = await ingest({ ...options, outDir: out, workers: 1, resume: true });
    expect(resumed.stats.resumed).toBe(true);
    const fresh = await ingest({ ...options, outDir: path.join(root, 'fresh'), workers: 1 });
    expect(resumed.manifest).toEqual(fresh.manifest);
    const info = fresh.manifest.stats!.dedupSignatures as { rows: number; held: { rows: number } };
    expect(info.held.rows).toBeGreaterThan(0);
    expect(fresh.manifest.shards.length).toBeGreaterThanOrEqual(3);
    const files = (await readdir(path.join(root, 'fresh'))).sort();
    expect(files).toEqual(expect.arrayContaining(['dedup-held.jsonl', 'dedup-signatures.bin']));
    expect((await readdir(out)).sort()).toEqual(files);
    for (const f of files.filter((f) => f !== 'stats.json')) {
      expect(Buffer.compare(await readFile(path.join(out, f)), await readFile(path.join(root, 'fresh', f))), f).toBe(0);
    }
  });
});
