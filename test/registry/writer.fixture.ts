// Registers PREFIX-0 … PREFIX-(COUNT-1) into the embedded database at DB, one line per finished registration.
// Run by database.test.ts as a separate process: a CLI writing beside a server, or a writer killed mid-write.
import { openRegistryDatabase, registerModelVersion } from '../../modules/registry/index.js';

const [dbPath, prefix, countText] = process.argv.slice(2) as [string, string, string];
const db = await openRegistryDatabase(dbPath);
for (let i = 0; i < Number(countText); i++) {
  const digest = `sha256:${i.toString(16).padStart(64, '0')}`;
  const r = await registerModelVersion(db, {
    name: `${prefix}-${i}`,
    version: 'v1',
    digest,
    uri: `oci://registry.example.com/team/${prefix}-${i}@${digest}`,
    modelFormatName: 'gguf',
    properties: { 'mof.class': '3' },
  });
  process.stdout.write(`done ${i} ${r.registeredModelId} ${r.modelVersionId} ${r.modelArtifactId}\n`);
}
db.close();
