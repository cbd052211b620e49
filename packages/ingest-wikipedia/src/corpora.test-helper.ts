import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Document, PretextError } from '@pretext/core';
import { readWikipedia, type ReadWikipediaOptions, type SkipReason, type WorkUnit } from './index.js';

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

/** Absolute path of a Wikipedia sample; fails loudly when the shared corpora are not there. */
export function sample(relative: string): string {
  const file = path.join(CORPORA, 'wikipedia', relative);
  if (!existsSync(file)) {
    throw new Error(`test corpora missing: ${file} does not exist (CI keeps them at ../shared/corpora next to the repo; see SOURCES.md)`);
  }
  return file;
}

export const ENWIKI = 'gensim/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2';
export const TABLES = 'gensim/enwiki-table-markup.xml.bz2';
export const BGWIKI = 'gensim/bgwiki-latest-pages-articles-shortened.xml.bz2';
export const LTGWIKI = 'dumpster-dive/smallwiki-latest-pages-articles.xml';
export const VIWIKI = 'wikiextractor-viwiki/test.xml';

export interface Collected {
  docs: Document[];
  skips: Partial<Record<SkipReason, number>>;
  skippedTitles: Array<[SkipReason, string]>;
  errors: PretextError[];
}

export async function collect(input: string | WorkUnit, options: ReadWikipediaOptions = {}): Promise<Collected> {
  const out: Collected = { docs: [], skips: {}, skippedTitles: [], errors: [] };
  for await (const doc of readWikipedia(input, {
    ...options,
    onSkip: (reason, detail) => {
      out.skips[reason] = (out.skips[reason] ?? 0) + 1;
      out.skippedTitles.push([reason, detail.title]);
      options.onSkip?.(reason, detail);
    },
    onError: (e) => out.errors.push(e),
  })) {
    out.docs.push(doc);
  }
  return out;
}
