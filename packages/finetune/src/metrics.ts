import { ConfigError } from '@pretext/core';

/** Classification quality on one set. */
export interface ClassificationMetrics {
  readonly n: number;
  readonly accuracy: number;
  /** Unweighted mean of the per-class F1 (scikit-learn's `average='macro'`; a class never predicted nor present counts 0). */
  readonly macroF1: number;
  readonly perClass: readonly { readonly label: string; readonly precision: number; readonly recall: number; readonly f1: number; readonly support: number }[];
  /** `confusion[true][predicted]` counts. */
  readonly confusion: readonly (readonly number[])[];
  readonly labelNames: readonly string[];
}

/** Counts `confusion[truth][prediction]`. */
export function confusionMatrix(truth: ArrayLike<number>, predicted: ArrayLike<number>, numLabels: number): number[][] {
  if (truth.length !== predicted.length) throw new ConfigError('predicted.length', predicted.length, `${truth.length}, one prediction per label`);
  const m = Array.from({ length: numLabels }, () => new Array<number>(numLabels).fill(0));
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i]!;
    const p = predicted[i]!;
    if (!(t >= 0 && t < numLabels && p >= 0 && p < numLabels)) throw new ConfigError(`label at ${i}`, [t, p], `indices below ${numLabels}`);
    m[t]![p]!++;
  }
  return m;
}

/** Accuracy, per-class precision/recall/F1 (0 where undefined, as scikit-learn's `zero_division=0`) and macro F1. */
export function classificationMetrics(truth: ArrayLike<number>, predicted: ArrayLike<number>, labelNames: readonly string[]): ClassificationMetrics {
  const k = labelNames.length;
  const confusion = confusionMatrix(truth, predicted, k);
  let correct = 0;
  for (let c = 0; c < k; c++) correct += confusion[c]![c]!;
  const perClass = labelNames.map((label, c) => {
    const tp = confusion[c]![c]!;
    let predictedC = 0;
    let support = 0;
    for (let o = 0; o < k; o++) {
      predictedC += confusion[o]![c]!;
      support += confusion[c]![o]!;
    }
    const precision = predictedC === 0 ? 0 : tp / predictedC;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { label, precision, recall, f1, support };
  });
  const n = truth.length;
  return {
    n,
    accuracy: n === 0 ? 0 : correct / n,
    macroF1: k === 0 ? 0 : perClass.reduce((s, c) => s + c.f1, 0) / k,
    perClass,
    confusion,
    labelNames,
  };
}

/** Mean and sample standard deviation (n − 1; 0 for one value). */
export function meanAndSpread(values: readonly number[]): { mean: number; std: number; min: number; max: number; n: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, min: NaN, max: NaN, n };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, min: Math.min(...values), max: Math.max(...values), n };
}
