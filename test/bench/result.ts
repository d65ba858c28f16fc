// What `npm run bench -- --markdown FILE` reads of a benchmark: the numbers its run() returned, written as JSON to
// the file the runner names in BENCH_RESULT_FILE (nothing is written when it is unset, as in a run by hand).
import { writeFileSync } from 'node:fs';

export function writeResult(r: Record<string, number>): void {
  const file = process.env.BENCH_RESULT_FILE;
  if (file) writeFileSync(file, JSON.stringify(r));
}
