/**
 * Typed errors. Each carries the facts as fields (for programs) and a one-line message that names the
 * file or value and says what to do (for people). The CLI prints `message` alone and exits non-zero.
 */
export abstract class PretextError extends Error {
  /** Stable machine-readable tag, e.g. `InputNotFound`. */
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A path given as input does not exist. */
export class InputNotFoundError extends PretextError {
  readonly code = 'InputNotFound';
  constructor(readonly path: string) {
    super(`${path}: no such file or folder; check the path or glob`);
  }
}

/** An input resolved to no usable files (an empty folder, a glob matching nothing, an empty file). */
export class EmptyInputError extends PretextError {
  readonly code = 'EmptyInput';
  constructor(readonly path: string, readonly detail = 'no input files found') {
    super(`${path}: ${detail}; point at a file or a folder that holds the input`);
  }
}

/** A file that should be text is not valid UTF-8 (or is binary). */
export class InvalidTextError extends PretextError {
  readonly code = 'InvalidText';
  constructor(readonly file: string, readonly offset: number, readonly reason = 'not valid UTF-8') {
    super(`${file}: ${reason} at byte ${offset}; convert it to UTF-8 text or leave it out`);
  }
}

/** A file's content is malformed for its declared format (corrupt record, truncated stream, bad XML). */
export class MalformedInputError extends PretextError {
  readonly code = 'MalformedInput';
  constructor(readonly file: string, readonly position: number | string, readonly reason: string) {
    super(`${file}: ${reason} at ${typeof position === 'number' ? `byte ${position}` : position}; the file is damaged or not in the expected format`);
  }
}

/** An Arrow shard does not carry the schema its manifest or reader expects. */
export class ShardSchemaError extends PretextError {
  readonly code = 'ShardSchema';
  constructor(readonly file: string, readonly expected: string, readonly actual: string) {
    super(`${file}: expected columns ${expected} but found ${actual}; rebuild the shards with this version of pretext`);
  }
}

/** A shard file is missing, truncated, or its checksum disagrees with the manifest. */
export class ShardIntegrityError extends PretextError {
  readonly code = 'ShardIntegrity';
  constructor(readonly file: string, readonly reason: string) {
    super(`${file}: ${reason}; rebuild the shards or rerun with --resume`);
  }
}

/** A manifest is missing or unreadable. */
export class ManifestError extends PretextError {
  readonly code = 'Manifest';
  constructor(readonly file: string, readonly reason: string) {
    super(`${file}: ${reason}; point at a folder written by pretext`);
  }
}

/** A configuration value or command-line flag is invalid. */
export class ConfigError extends PretextError {
  readonly code = 'Config';
  constructor(readonly key: string, readonly value: unknown, readonly expected: string) {
    super(`${key}=${formatValue(value)} is invalid: expected ${expected}`);
  }
}

/** An objective implements a different contract version than this pretext. */
export class ObjectiveContractError extends PretextError {
  readonly code = 'ObjectiveContract';
  constructor(readonly objective: string, readonly expected: number, readonly actual: unknown) {
    super(
      `objective "${objective}" implements contract ${formatValue(actual)} but this pretext needs contract ${expected}; install a matching version of the objective`,
    );
  }
}

/** Objectives that cannot be trained together (two example builders, encoder with decoder, duplicates). */
export class ObjectiveConflictError extends PretextError {
  readonly code = 'ObjectiveConflict';
  constructor(readonly objectives: readonly string[], readonly reason: string) {
    super(`objectives ${objectives.join(' + ')} cannot be combined: ${reason}`);
  }
}

/** A tokenizer file is malformed or does not fit the model. */
export class TokenizerError extends PretextError {
  readonly code = 'Tokenizer';
  constructor(readonly file: string, readonly reason: string) {
    super(`${file}: ${reason}`);
  }
}

/** Training diverged: the loss became NaN or infinite. */
export class NonFiniteLossError extends PretextError {
  readonly code = 'NonFiniteLoss';
  constructor(readonly step: number, readonly loss: number, readonly lastCheckpoint: string | null) {
    super(
      `loss became ${loss} at step ${step}; ${lastCheckpoint ? `the last good checkpoint is ${lastCheckpoint}` : 'no checkpoint was written yet'}; lower the learning rate or enable gradient clipping`,
    );
  }
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** True for errors whose message is written for people (print it alone, no stack). */
export function isPretextError(error: unknown): error is PretextError {
  return error instanceof PretextError;
}
