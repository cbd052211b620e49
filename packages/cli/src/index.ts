export { createProgram, main } from './program.js';
export { FIRST_PARTY_OBJECTIVES, loadObjectives } from './objectives.js';
export { tokenShardData } from './data.js';
export type { ShardDataOptions } from './data.js';
export { demo, DEMO_DEFAULTS } from './demo.js';
export type { DemoOptions } from './demo.js';
