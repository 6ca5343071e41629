/**
 * What `modelship serve` loads before the model: the command's static imports must not pull in the
 * cluster-policy machinery (gitops, signing, the store: over a second of module loading on this
 * machine) when no --policy is given, nor node-llama-cpp and the HTTP layer, which load in parallel.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { staticImportGraph, staticSpecifiers } from '../helpers/import-graph.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');

describe('serve start-up', () => {
  it('the graph walk sees static imports and re-exports, not `import type` or import()', () => {
    const source = [
      "import { a } from './a.js';",
      "import {\n  b,\n  type B,\n} from './b.js';",
      "import type { C } from './c.js';",
      "import { type D } from './d.js';",
      "export { e } from './e.js';",
      "export type { F } from './f.js';",
      "const g = await import('./g.js');",
      "import 'node:os';",
    ].join('\n');
    expect(staticSpecifiers(source)).toEqual(['./a.js', './b.js', './d.js', './e.js', 'node:os']);
  });

  it('loading the serve command reaches no policy, signing or store module, nor node-llama-cpp or zod', () => {
    const graph = staticImportGraph(repoRoot, 'modules/cli/commands/serve.ts');
    expect(graph.files).toContain('modules/cli/plumbing/serving.ts');
    expect(graph.files.filter((f) => /^modules\/(gitops|sign|store|modelpack|pipeline)\//.test(f))).toEqual([]);
    expect(graph.files).not.toContain('modules/cli/plumbing/cluster-policy.ts');
    expect(graph.files).not.toContain('modules/infer/server.ts');
    expect(graph.packages.filter((p) => !p.startsWith('node:'))).toEqual([]);
  });

  it('the policy machinery behind serve still loads when a policy flag is given', async () => {
    // --env alone is refused by the policy module itself: proof that it was loaded and ran.
    const res = await runCli(['serve', 'nowhere/model.gguf', '--env', 'prod'], { cwd: repoRoot });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('--env names the environment of the policy --policy reads');
  });
});
