// Runs the CLI from source, as bin/modelship.js runs it from dist/.
import { main } from '../../modules/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
