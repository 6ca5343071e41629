#!/usr/bin/env node
// Entry point: runs the compiled CLI; `npm run build` produces dist/.
import { main, processInvocation } from '../dist/modules/cli/main.js';

process.exitCode = await main(process.argv.slice(2), { invocation: processInvocation(import.meta.url) });
