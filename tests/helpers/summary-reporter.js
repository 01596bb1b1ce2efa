const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

/**
 * Prints the runner's own totals as one plain line, `N passed, N failed`, and keeps it
 * in .gdx/test-summary.txt so .ci/run can end with it after the steps that follow jest.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    // A suite that could not run at all counts as a failure, not as nothing.
    const failed = results.numFailedTests + (results.numRuntimeErrorTestSuites || 0);
    const line = `${results.numPassedTests} passed, ${failed} failed`;
    process.stdout.write(`\n${line}\n`);
    const dir = join(__dirname, '..', '..', '.gdx');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'test-summary.txt'), `${line}\n`);
  }
}
module.exports = SummaryReporter;
