// Runs the CLI from source, as bin/modelship.js runs it from dist/.
import { main, processInvocation } from '../../modules/cli/main.js';

process.exitCode = await main(process.argv.slice(2), { invocation: processInvocation(import.meta.url) });
