/** The MOF class and gate of the artifact a hand-off deploys, read from its manifest and small documents. */
import { projectViewOfArtifact, withArtifactProject } from '../attach/index.js';
import { meetsClass } from '../card/index.js';
import type { ReadOnlyTarget } from '../oci/index.js';
import type { MofVerdict } from './handoff.js';

export async function mofVerdict(target: ReadOnlyTarget, selector: string, display: string, require: 1 | 2 | 3 | undefined): Promise<MofVerdict> {
  return withArtifactProject(target, selector, display, async (project) => {
    const view = await projectViewOfArtifact(project);
    const e = view.mof.evaluation;
    const passed = require === undefined ? undefined : meetsClass(e.class, require);
    return {
      class: e.class, label: e.label,
      ...(require !== undefined ? { require, passed: passed! } : {}),
      ...(passed === false ? { missing: view.mof.toAdd.filter((m) => m.class >= require!).map((m) => m.name) } : {}),
    };
  });
}
