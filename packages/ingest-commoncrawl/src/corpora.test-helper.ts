import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Document, PretextError } from '@pretext/core';
import { readCommonCrawl, type ReadCommonCrawlOptions, type SkipReason, type WorkUnit } from './index.js';

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

/** Absolute path of a Common Crawl sample; fails loudly when the shared corpora are not there. */
export function sample(relative: string): string {
  const file = path.join(CORPORA, 'commoncrawl', relative);
  if (!existsSync(file)) {
    throw new Error(`test corpora missing: ${file} does not exist (CI keeps them at ../shared/corpora next to the repo; see SOURCES.md)`);
  }
  return file;
}

export interface Collected {
  docs: Document[];
  /** skip counts by reason */
  skips: Partial<Record<SkipReason, number>>;
  /** records seen by WARC-Type (documents and skips together) */
  types: Record<string, number>;
  errors: PretextError[];
}

export async function collect(input: string | WorkUnit, options: ReadCommonCrawlOptions = {}): Promise<Collected> {
  const out: Collected = { docs: [], skips: {}, types: {}, errors: [] };
  for await (const doc of readCommonCrawl(input, {
    ...options,
    onSkip: (reason, detail) => {
      out.skips[reason] = (out.skips[reason] ?? 0) + 1;
      out.types[detail.recordType] = (out.types[detail.recordType] ?? 0) + 1;
      options.onSkip?.(reason, detail);
    },
    onError: (e) => out.errors.push(e),
  })) {
    out.docs.push(doc);
  }
  return out;
}
