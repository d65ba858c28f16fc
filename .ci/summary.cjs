// The closing lines of .ci/run, read from vitest's JSON report (argv[2]).
const r = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
const skipped = r.numPendingTests + r.numTodoTests;
// A timeout carries the stack of where the test or hook was declared, headed "Error: STACK_TRACE_ERROR".
const firstLine = (m) => /^Error: STACK_TRACE_ERROR/.test(m) ? `timed out (declared ${(m.split("\n")[1] ?? "").trim()})` : m.split("\n")[0];
// Passed with a failure on record: passed on its retry (vitest.config.ts). Listed, with the first failure.
const flaky = r.testResults.flatMap((f) => f.assertionResults.filter((t) => t.status === "passed" && t.failureMessages.length > 0)
  .map((t) => `  ${f.name.replace(process.cwd() + "/", "")} > ${t.fullName}\n    first attempt: ${firstLine(t.failureMessages[0])}`));
console.log(flaky.length > 0 ? `passed only on their retry (flaky, to be fixed):\n${flaky.join("\n")}` : "no test needed its retry");
// Exactly "N passed, N failed, N skipped" alone on the last line: the form CI reads as the run's count.
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
