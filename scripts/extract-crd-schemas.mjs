// Writes schemas/crds/<group>/<Kind>_<version>.json: the openAPIV3Schema of each served version of the
// CRDs under test/vectors/crds, so `modelship handoff --check` validates offline against them.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const vectors = join(root, 'test/vectors/crds');
const out = join(root, 'schemas/crds');

/** Every served version's schema, keyed by the file it is written to. */
export function crdSchemas(text) {
  const files = {};
  for (const doc of parseAllDocuments(text)) {
    const crd = doc.toJS();
    if (crd?.kind !== 'CustomResourceDefinition') continue;
    for (const v of crd.spec.versions) {
      if (!v.served || !v.schema?.openAPIV3Schema) continue;
      files[`${crd.spec.group}/${crd.spec.names.kind}_${v.name}.json`] = v.schema.openAPIV3Schema;
    }
  }
  return files;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const dir of readdirSync(vectors, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const file of readdirSync(join(vectors, dir.name)).filter((f) => f.endsWith('.yaml'))) {
      for (const [name, schema] of Object.entries(crdSchemas(readFileSync(join(vectors, dir.name, file), 'utf8')))) {
        mkdirSync(dirname(join(out, name)), { recursive: true });
        writeFileSync(join(out, name), JSON.stringify(schema) + '\n');
        console.log(`${name} from ${dir.name}/${file}`);
      }
    }
  }
}
