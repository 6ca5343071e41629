// The pipeline action's entry, as the runner starts it (runs.main): actions/setup built modelship in
// this checkout, so the action's logic is compiled beside the CLI. No entry-point guard: this file
// only runs as the entry, and a missing build fails the step instead of passing it.
import { existsSync } from 'node:fs';

const logic = new URL('../../dist/actions/pipeline/main.js', import.meta.url);
if (!existsSync(logic)) {
  console.log('::error title=modelship::the pipeline action is not built: add the actions/setup step (from the same modelship ref) before this one');
  process.exitCode = 1;
} else {
  const { run } = await import(logic.href);
  process.exitCode = run();
}
