/**
 * Every workflow and action file, through GitHub's own parser (@actions/workflow-parser, the schema
 * the runner and the editor use): the reusable workflow, both actions, and the workflow a template
 * writes (with its placeholders filled in as init fills them).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createFromTemplate } from '../../modules/example/template.js';

const exec = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '..', '..');

async function validate(files: string[]): Promise<Record<string, string[]>> {
  const { stdout } = await exec(path.join(repoRoot, 'node_modules', '.bin', 'tsx'), [path.join(import.meta.dirname, 'validate-workflows.mts'), ...files], { cwd: repoRoot });
  return JSON.parse(stdout) as Record<string, string[]>;
}

describe('workflow and action files', () => {
  it('pass GitHub\'s workflow parser, and the parser rejects a broken one', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'modelship-workflows-'));
    const project = await createFromTemplate('chat', path.join(root, 'chat'), { git: false, repository: 'acme/modelship', ref: 'v0.1.0' });
    const broken = path.join(root, 'broken.yml');
    await writeFile(broken, 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        wiht: { ref: main }\n');
    const files = [
      path.join(repoRoot, '.github', 'workflows', 'modelship.yml'),
      path.join(repoRoot, 'actions', 'pipeline', 'action.yml'),
      path.join(repoRoot, 'actions', 'setup', 'action.yml'),
      path.join(project.dir, '.github', 'workflows', 'model.yml'),
    ];
    const result = await validate([...files, broken]);
    for (const file of files) expect(result[file], file).toEqual([]);
    expect(result[broken]).toEqual([expect.stringMatching(/Unexpected value 'wiht'/)]);
  }, 120_000);
});
