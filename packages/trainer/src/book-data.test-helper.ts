import { bookDocuments, stream } from '@pretext/test-fixtures';
import type { TrainData } from './data.js';

export interface BookDataOptions {
  /** Book under the shared corpora's `books/`. */
  readonly book: string;
  /** Every `validationEvery`-th paragraph is held out. */
  readonly validationEvery: number;
  /** First paragraphs only (a small corpus makes runs cross epochs). */
  readonly limit?: number;
  /** Hold out nothing. Default false. */
  readonly noValidation?: boolean;
}

/** A real book as training data with an origin, so a loader thread can rebuild it (tests of the loader thread). */
export function bookData(options: BookDataOptions): TrainData {
  const docs = bookDocuments(options.book, options.limit ?? Infinity);
  const train = docs.filter((_, i) => i % options.validationEvery !== 0);
  const validation = docs.filter((_, i) => i % options.validationEvery === 0);
  return {
    train: () => stream(train),
    ...(options.noValidation ? {} : { validation: () => stream(validation) }),
    origin: { module: import.meta.url, export: 'bookData', options: { ...options } },
  };
}
