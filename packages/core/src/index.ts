export type { Document, TokenizedDocument, SpecialTokens } from './documents.js';
export { IGNORE_INDEX, documentId } from './documents.js';
export {
  PretextError,
  InputNotFoundError,
  EmptyInputError,
  InvalidTextError,
  MalformedInputError,
  ShardSchemaError,
  ShardIntegrityError,
  ManifestError,
  ConfigError,
  ObjectiveContractError,
  ObjectiveConflictError,
  TokenizerError,
  NonFiniteLossError,
  isPretextError,
} from './errors.js';
export { Rng, seedFromString } from './rng.js';
export { firstInvalidUtf8 } from './utf8.js';
export type { RngState } from './rng.js';
export { OBJECTIVE_CONTRACT_VERSION, composeObjectives, collate } from './objective.js';
export type {
  TF,
  Tensor,
  Scalar,
  Tensor2D,
  Tensor3D,
  Variable,
  Example,
  Batch,
  DataContext,
  ExampleSource,
  Init,
  BackboneInputs,
  Backbone,
  ModelInfo,
  HeadContext,
  ForwardContext,
  ObjectiveOutput,
  ObjectiveHead,
  ObjectiveOrigin,
  Objective,
  ObjectiveSpec,
  WeightedObjective,
  Composition,
} from './objective.js';
export { startWorker, serializeError, reviveError, WorkerPretextError } from './workers.js';
export type { SerializedError } from './workers.js';
