import { createRequire } from 'node:module';
import { ConfigError, type TF } from '@pretext/core';

export type BackendName = 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

export interface SelectedBackend {
  readonly name: BackendName;
  /** Why this backend was chosen, in one line (the CLI prints it). */
  readonly reason: string;
  readonly tf: TF;
}

export interface SelectBackendOptions {
  /** Force one backend; fails with a `ConfigError` when it cannot load. Default: the fastest that loads. */
  readonly backend?: BackendName;
}

interface Attempt {
  readonly ok: boolean;
  readonly tf?: TF;
  readonly detail: string;
}

/** Module specifiers held in variables so TypeScript does not need the optional peers' types. */
const NODE_GPU = '@tensorflow/tfjs-node-gpu';
const NODE_CPU = '@tensorflow/tfjs-node';

async function tryNative(specifier: string, label: string): Promise<Attempt> {
  let mod: TF;
  try {
    // Resolve first: "not installed" is the common case and deserves a plain message.
    createRequire(import.meta.url).resolve(specifier);
  } catch {
    return { ok: false, detail: `${label} not installed` };
  }
  try {
    mod = (await import(specifier)) as TF;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return { ok: false, detail: `${label} not installed` };
    return { ok: false, detail: `${label} failed to load (${firstLine(error)})` };
  }
  try {
    // tfjs-node registers the 'tensorflow' backend on import; the GPU build uses CUDA through the same name.
    const ok = await mod.setBackend('tensorflow');
    await mod.ready();
    if (!ok || mod.getBackend() !== 'tensorflow') return { ok: false, detail: `${label} installed but its backend did not initialise` };
    return { ok: true, tf: mod, detail: `${label} loaded` };
  } catch (error) {
    return { ok: false, detail: `${label} installed but failed to start (${firstLine(error)})` };
  }
}

async function tfjs(): Promise<TF> {
  // The `@tensorflow/tfjs` package (not tfjs-core alone) registers the gradients of every op in Node.
  return (await import('@tensorflow/tfjs')) as unknown as TF;
}

async function tryWasm(): Promise<Attempt> {
  try {
    const tf = await tfjs();
    await import('@tensorflow/tfjs-backend-wasm');
    // setBackend returns false (while getBackend() may still say 'wasm') when the .wasm file is missing: check it.
    const ok = await tf.setBackend('wasm');
    if (!ok) return { ok: false, detail: 'wasm backend did not initialise (its .wasm binary could not be loaded)' };
    await tf.ready();
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    return { ok: true, tf, detail: simd ? 'wasm (SIMD)' : 'wasm (no SIMD)' };
  } catch (error) {
    return { ok: false, detail: `wasm failed to load (${firstLine(error)})` };
  }
}

async function tryCpu(): Promise<Attempt> {
  const tf = await tfjs();
  const ok = await tf.setBackend('cpu');
  await tf.ready();
  return ok ? { ok: true, tf, detail: 'cpu' } : { ok: false, detail: 'cpu backend did not initialise' };
}

const LOADERS: Record<BackendName, () => Promise<Attempt>> = {
  'tfjs-node-gpu': () => tryNative(NODE_GPU, 'tfjs-node-gpu'),
  'tfjs-node': () => tryNative(NODE_CPU, 'tfjs-node'),
  wasm: tryWasm,
  cpu: tryCpu,
};

/**
 * Picks the TensorFlow.js backend: tfjs-node-gpu, then tfjs-node, then wasm, then the plain cpu backend.
 * tfjs-node(-gpu) are optional peer dependencies; wasm ships with the trainer and is about 20× faster than cpu.
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<SelectedBackend> {
  if (options.backend !== undefined) {
    const name = options.backend;
    if (!BACKEND_NAMES.includes(name)) throw new ConfigError('backend', name, BACKEND_NAMES.join(', '));
    const attempt = await LOADERS[name]();
    if (!attempt.ok || !attempt.tf) {
      const hint = name.startsWith('tfjs-node')
        ? `install ${name === 'tfjs-node-gpu' ? NODE_GPU : NODE_CPU}@4.22 (see the trainer README) or choose wasm`
        : 'choose another backend';
      throw new ConfigError('backend', name, `a backend that loads here: ${attempt.detail}; ${hint}`);
    }
    return { name, reason: `${attempt.detail}; forced by the backend option`, tf: attempt.tf };
  }
  const skipped: string[] = [];
  for (const name of BACKEND_NAMES) {
    const attempt = await LOADERS[name]();
    if (attempt.ok && attempt.tf) {
      const why =
        name === 'tfjs-node-gpu'
          ? 'tfjs-node-gpu loaded: training on the GPU'
          : name === 'tfjs-node'
            ? 'native TensorFlow CPU kernels'
            : name === 'wasm'
              ? `${attempt.detail} is the fastest CPU path here`
              : 'the plain JavaScript cpu backend (about 20× slower than wasm)';
      return { name, reason: skipped.length > 0 ? `${skipped.join('; ')}; ${why}` : why, tf: attempt.tf };
    }
    skipped.push(attempt.detail);
  }
  throw new ConfigError('backend', undefined, `a TensorFlow.js backend that loads: ${skipped.join('; ')}`);
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
