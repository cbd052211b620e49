import type { Document, PretextError } from '@pretext/core';
import { corpus } from '@pretext/test-fixtures';
import { readCommonCrawl, type ReadCommonCrawlOptions, type SkipReason, type WorkUnit } from './index.js';

/** Absolute path of a Common Crawl sample; fails loudly when the shared corpora are not there. */
export function sample(relative: string): string {
  return corpus('commoncrawl', relative);
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
