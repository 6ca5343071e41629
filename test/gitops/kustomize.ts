/** The layout on disk and `kubectl kustomize` over it: what Flux's kustomize-controller and Argo CD build. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import type { LayoutFile } from '../../modules/gitops/index.js';
import { tempDir } from '../modelpack/helpers.js';

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: any };

/** Writes the files as the GitOps repository would hold them; returns its folder. */
export async function writeLayout(files: LayoutFile[], into?: string): Promise<string> {
  const root = into ?? (await tempDir('gitops-kustomize-'));
  for (const f of files) {
    await mkdir(dirname(join(root, f.path)), { recursive: true });
    await writeFile(join(root, f.path), f.text);
  }
  return root;
}

/** `kubectl kustomize DIR` (kustomize v5, kubectl 1.27 or newer): fails the test with kustomize's own message. */
export async function kustomizeBuild(root: string, path: string): Promise<K8sObject[]> {
  const run = await execa('kubectl', ['kustomize', join(root, path)], { reject: false });
  if (run.exitCode !== 0) throw new Error(`kubectl kustomize ${path} failed (${run.exitCode}): ${run.stderr}`);
  return parseAllDocuments(run.stdout).map((d) => d.toJS() as K8sObject).filter(Boolean);
}

/** Every folder of the layout that holds a kustomization. */
export function kustomizationFolders(files: LayoutFile[]): string[] {
  return files.filter((f) => f.path.endsWith('/kustomization.yaml')).map((f) => dirname(f.path));
}

export const idOf = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
