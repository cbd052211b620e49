// Runs worker.ts from source (tests, development): Node 20 ignores `--import tsx` in a worker's execArgv, so the
// worker registers tsx's ESM hooks itself before importing the TypeScript module. Built packages use worker.js.
import { register } from 'tsx/esm/api';

register();
const mod = await import('./worker.ts');
export default mod.default;
