// The closing lines of .ci/run, read from vitest's JSON report (argv[2]).
const r = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
const skipped = r.numPendingTests + r.numTodoTests;
// A timeout carries the stack of where the test or hook was declared, headed "Error: STACK_TRACE_ERROR".
const firstLine = (m) =>
  /^Error: STACK_TRACE_ERROR/.test(m) ? `timed out (declared ${(m.split('\n')[1] ?? '').trim()})` : m.split('\n')[0];
// No test is retried (vitest.config.ts): every failure is listed here with its first line.
const failed = r.testResults.flatMap((f) =>
  f.assertionResults
    .filter((t) => t.status === 'failed')
    .map(
      (t) =>
        `  ${f.name.replace(process.cwd() + '/', '')} > ${t.fullName}\n    ${firstLine(t.failureMessages[0] ?? '')}`,
    ),
);
if (failed.length > 0) console.log(`failed:\n${failed.join('\n')}`);
// Exactly "N passed, N failed, N skipped" alone on the last line: the form CI reads as the run's count.
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
