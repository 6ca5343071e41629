// Runs the pipeline action's logic from source, as main.mjs runs it from dist/ on the runner.
import { run } from '../../actions/pipeline/main.js';

process.exitCode = run();
