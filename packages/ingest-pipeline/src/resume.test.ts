import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@pretext/core';
import { cleanTempDirs, corpus, tempDir } from './corpora.test-helper.js';
import { CHECKPOINT_FILE, ingest } from './index.js';

afterAll(cleanTempDirs);

const TIME_FIELDS = ['seconds', 'docsPerSecond', 'mbPerSecond', 'memory', 'workers', 'resumed'];
const withoutTime = (stats: Record<string, unknown>) => Object.fromEntries(Object.entries(stats).filter(([k]) => !TIME_FIELDS.includes(k)));

describe('resume', () => {
  it('after kill -9 mid-run, --resume gives exactly the files of an uninterrupted run', async () => {
    const root = await tempDir();
    const out = path.join(root, 'out');
    const index = fileURLToPath(new URL('./index.ts', import.meta.url));
    // Small units and shards: many checkpoints, and most of the run still ahead when the first appears.
    const options = { kind: 'commoncrawl' as const, inputs: [corpus('commoncrawl')], unitBytes: 8_000, maxShardBytes: 10_000 };
    const script = path.join(root, 'run.mts');
    await writeFile(
      script,
      `import { ingest } from ${JSON.stringify(index)};
       await ingest({ ...${JSON.stringify(options)}, outDir: ${JSON.stringify(out)}, workers: 2,
         onProgress: (p) => process.stdout.write('units ' + p.bytes + '\\n') });
       process.stdout.write('done\\n');`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@pretext/source', script], {
      cwd: path.dirname(index),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Kill it as soon as it has written a checkpoint (a shard is finished), far from the end of the input.
    let killed = false;
    while (!killed) {
      if (existsSync(path.join(out, CHECKPOINT_FILE))) {
        child.kill('SIGKILL');
        killed = true;
        break;
      }
      const done = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 20))]);
      if (done) break;
    }
    expect(await exited, `the child finished before it was killed:\n${output}`).toBeNull();
    expect(output).not.toContain('done');
    const left = await readdir(out);
    expect(left).not.toContain('manifest.json');
    expect(left.filter((f) => /^part-\d+\.arrow$/.test(f)).length).toBeGreaterThan(0);

    // Other options than the interrupted run: refused.
    await expect(ingest({ ...options, outDir: out, workers: 1, resume: true, dedup: { near: false } })).rejects.toBeInstanceOf(ConfigError);

    const resumed = await ingest({ ...options, outDir: out, workers: 1, resume: true });
    expect(resumed.stats.resumed).toBe(true);
    const fresh = await ingest({ ...options, outDir: path.join(root, 'fresh'), workers: 1 });
    expect(resumed.manifest).toEqual(fresh.manifest);
    expect(fresh.manifest.shards.length).toBeGreaterThanOrEqual(5);
    const files = (await readdir(path.join(root, 'fresh'))).sort();
    expect((await readdir(out)).sort()).toEqual(files);
    for (const f of files.filter((f) => f !== 'stats.json')) {
      expect(Buffer.compare(await readFile(path.join(out, f)), await readFile(path.join(root, 'fresh', f))), f).toBe(0);
    }
    const a = JSON.parse(await readFile(path.join(out, 'stats.json'), 'utf8'));
    const b = JSON.parse(await readFile(path.join(root, 'fresh', 'stats.json'), 'utf8'));
    expect(withoutTime(a)).toEqual(withoutTime(b));
  });
});
