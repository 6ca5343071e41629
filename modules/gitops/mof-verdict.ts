/** The MOF class and gate of the artifact a hand-off deploys, read from its manifest and small documents. */
import { projectViewOfArtifact, withArtifactProject } from '../attach/index.js';
import { meetsClass } from '../card/index.js';
import type { ReadOnlyTarget } from '../oci/index.js';
import type { MofVerdict } from './handoff.js';

/** The artifact's MOF class, and what each higher class still needs: everything a gate at any class reads. */
export interface MofEvaluation {
  class: number;
  label: string;
  toAdd: { name: string; class: number }[];
}

export async function evaluateMof(target: ReadOnlyTarget, selector: string, display: string): Promise<MofEvaluation> {
  return withArtifactProject(target, selector, display, async (project) => {
    const { evaluation, toAdd } = (await projectViewOfArtifact(project)).mof;
    return { class: evaluation.class, label: evaluation.label, toAdd: toAdd.map((m) => ({ name: m.name, class: m.class })) };
  });
}

/** The gate at `require` (undefined: no gate) on an evaluation already made. */
export function mofVerdictOf(e: MofEvaluation, require: 1 | 2 | 3 | undefined): MofVerdict {
  const passed = require === undefined ? undefined : meetsClass(e.class, require);
  return {
    class: e.class, label: e.label,
    ...(require !== undefined ? { require, passed: passed! } : {}),
    ...(passed === false ? { missing: e.toAdd.filter((m) => m.class >= require!).map((m) => m.name) } : {}),
  };
}

export async function mofVerdict(target: ReadOnlyTarget, selector: string, display: string, require: 1 | 2 | 3 | undefined): Promise<MofVerdict> {
  return mofVerdictOf(await evaluateMof(target, selector, display), require);
}
