// Prints whether SQLite's native module is mapped into this process after loading the registry commands, then after opening a database (when given a path).
import { readFileSync } from 'node:fs';

const mapped = () => readFileSync('/proc/self/maps', 'utf8').includes('better_sqlite3.node');
await import('../../modules/cli/commands/register.js');
await import('../../modules/cli/commands/registry.js');
const registry = await import('../../modules/registry/index.js');
const afterImport = mapped();
const dbPath = process.argv[2];
if (dbPath) (await registry.openRegistryDatabase(dbPath)).close();
process.stdout.write(JSON.stringify({ afterImport, afterOpen: mapped() }) + '\n');
