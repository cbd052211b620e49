import { processUnit, type UnitResult, type UnitTask } from './process.js';

/** The pool's task: one work unit in, its filtered documents and dedup keys out. */
export default function run(task: UnitTask): Promise<UnitResult> {
  return processUnit(task);
}
