import type { Document, PretextError } from '@pretext/core';
import { corpus } from '@pretext/test-fixtures';
import { readWikipedia, type ReadWikipediaOptions, type SkipReason, type WorkUnit } from './index.js';

/** Absolute path of a Wikipedia sample; fails loudly when the shared corpora are not there. */
export function sample(relative: string): string {
  return corpus('wikipedia', relative);
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
