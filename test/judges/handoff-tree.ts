/**
 * What `modelship handoff` commits, checked out in a folder, for the judges of the cluster side
 * (kubeconform, kustomize, flux): the CLI's own output, never a snapshot.
 */
import { join } from 'node:path';
import { execa } from 'execa';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../modelpack/helpers.js';
import { bareRepository, pushModel, signingKeys, signModel } from '../gitops/helpers.js';

export interface HandoffTree {
  /** The checked-out GitOps repository. */
  dir: string;
  /** The model's folder in it: base/, overlays/ENV/, policy/ENV/, delivery/ENV/. */
  modelDir: string;
  env: string;
  digest: string;
}

/** Pushes and signs a small model, hands it off with `extraArgs`, and checks the commit out. */
export async function handoffTree(registry: string, repository: string, extraArgs: string[] = [], env = 'dev'): Promise<HandoffTree> {
  const keys = await signingKeys();
  const model = await pushModel(registry, { format: 'gguf', modelcar: true, repository });
  await signModel(model, keys);
  const bare = await bareRepository();
  const cwd = await tempDir('judge-handoff-');
  const run = await runCli(['handoff', model.reference, '--gitops', bare, '--key', keys.publicFile, '--env', env, '--cluster-url', 'https://git.example.test/acme/gitops.git', '--no-register', '--plain-http', '--json', ...extraArgs], { cwd, env: { MODELSHIP_HOME: join(cwd, 'home'), HOME: cwd } });
  if (run.code !== 0) throw new Error(`modelship handoff failed (${run.code}): ${run.stderr}${run.stdout}`);
  const dir = join(cwd, 'checkout');
  await execa('git', ['clone', '-q', bare, dir]);
  return { dir, modelDir: join(dir, 'models', 'tiny-chat'), env, digest: model.pulled.digest };
}
