import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'nx.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('repo root (the folder holding nx.json) not found above the test file');
    dir = up;
  }
  return dir;
}

export const CORPORA = path.resolve(repoRoot(), '../shared/corpora');

/** Absolute path of a file or folder in the shared corpora; fails loudly when they are not there. */
export function corpus(relative: string): string {
  const file = path.join(CORPORA, relative);
  if (!existsSync(file)) {
    throw new Error(`test corpora missing: ${file} does not exist (CI keeps them at ../shared/corpora next to the repo; see SOURCES.md)`);
  }
  return file;
}

const dirs: string[] = [];
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pretext-ingest-'));
  dirs.push(dir);
  return dir;
}
export async function cleanTempDirs(): Promise<void> {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
}
