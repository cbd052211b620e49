import { MalformedInputError } from '@pretext/core';

export interface EpubBook {
  readonly text: string;
  readonly title?: string;
  readonly author?: string;
  readonly language?: string;
}

export function readEpub(_bytes: Uint8Array, file: string): EpubBook {
  throw new MalformedInputError(file, 'EPUB', 'EPUB reading is not implemented yet');
}
