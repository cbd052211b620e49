import { AdamW, Session, clipByGlobalNorm, globalNorm } from '@pretext/trainer';

/**
 * The trainer's own model session, optimizer and clipping: fine-tuning must build exactly the model a checkpoint was
 * trained with (parameter names, layer norms, initialisation, wasm-tuned ops), so it reuses them rather than a copy.
 */
export type { Session } from '@pretext/trainer';

export interface TrainerInternals {
  readonly Session: typeof Session;
  readonly AdamW: typeof AdamW;
  readonly globalNorm: typeof globalNorm;
  readonly clipByGlobalNorm: typeof clipByGlobalNorm;
}

export function trainerInternals(): Promise<TrainerInternals> {
  return Promise.resolve({ Session, AdamW, globalNorm, clipByGlobalNorm });
}
