import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Absolute path of a file or folder in the shared corpora; fails loudly when they are not there. */
export { corpus } from '@pretext/test-fixtures';

const dirs: string[] = [];
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pretext-ingest-'));
  dirs.push(dir);
  return dir;
}
export async function cleanTempDirs(): Promise<void> {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
}
