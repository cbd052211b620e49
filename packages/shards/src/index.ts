export type { Manifest, ShardInfo, SchemaField } from './manifest.js';
export { readManifest, verifyShards, writeFileAtomic, MANIFEST_FILE, CREATED_BY } from './manifest.js';
export type { DocumentTexts, MetaField, WriteDocumentsOptions } from './documents.js';
export { writeDocuments, readDocuments, readDocumentTexts, documentSchema, metaFieldsOf } from './documents.js';
export type { WriteTokenizedDocumentsOptions } from './tokens.js';
export { writeTokenizedDocuments, readTokenizedDocuments, tokenSchema, vocabSizeOf } from './tokens.js';
export { shardFileName } from './writer.js';
