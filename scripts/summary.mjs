// Prints the plain "N passed, N failed, N skipped" line CI reads, from vitest's JSON report.
// A test file that failed to load counts as one failure, so a broken import cannot pass silently.
import { readFileSync } from 'node:fs';

let report;
try {
  report = JSON.parse(readFileSync(process.argv[2] ?? '.vitest-report.json', 'utf8'));
} catch {
  console.log('0 passed, 1 failed');
  process.exit(0);
}
const brokenFiles = (report.testResults ?? []).filter(
  (file) => file.status === 'failed' && !(file.assertionResults ?? []).some((a) => a.status === 'failed'),
).length;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${report.numPassedTests} passed, ${report.numFailedTests + brokenFiles} failed, ${skipped} skipped`);
