/**
 * Every command, registered once. Modules load lazily so `--help` and small commands start fast.
 * To add a command: write commands/<name>.ts exporting `command: Command`, then add one line here.
 * A command file imports no other command file: what several commands share goes in plumbing/.
 */
import type { Command } from './command.js';

export interface CommandEntry {
  name: string;
  summary: string;
  group: 'artifacts' | 'registry' | 'document' | 'sign' | 'serve' | 'handoff' | 'project';
  load: () => Promise<{ command: Command }>;
}

export const COMMANDS: CommandEntry[] = [
  { name: 'pack', summary: 'Pack a model folder as a ModelPack OCI artifact into the local store', group: 'artifacts', load: () => import('./commands/pack.js') },
  { name: 'import', summary: 'Import a Hugging Face model (hf://ORG/NAME@REVISION) into the local store as a ModelPack artifact', group: 'artifacts', load: () => import('./commands/import.js') },
  { name: 'push', summary: 'Push a model from the local store to a registry (only missing blobs go up)', group: 'registry', load: () => import('./commands/push.js') },
  { name: 'pull', summary: 'Pull a model from a registry into the local store', group: 'registry', load: () => import('./commands/pull.js') },
  { name: 'unpack', summary: 'Unpack a model (ModelPack, ModelKit, Docker, Ollama) into a folder', group: 'artifacts', load: () => import('./commands/unpack.js') },
  { name: 'list', summary: 'List the models in the local store', group: 'artifacts', load: () => import('./commands/list.js') },
  { name: 'tag', summary: 'Give a model in the local store another reference', group: 'artifacts', load: () => import('./commands/tag.js') },
  { name: 'rm', summary: 'Remove a reference from the local store (prune frees the space)', group: 'artifacts', load: () => import('./commands/rm.js') },
  { name: 'prune', summary: 'Delete blobs in the local store that no reference reaches', group: 'artifacts', load: () => import('./commands/prune.js') },
  { name: 'example', group: 'project', summary: 'Write a tiny example model project (real GGUF, cards, report) to try modelship offline', load: () => import('./commands/example.js') },
  { name: 'init', summary: 'Describe a model folder in a new modelship.yaml (files classified, metadata read)', group: 'project', load: () => import('./commands/init.js') },
  { name: 'copy', summary: 'Copy a model or image with its blobs (and referrers) between layouts and registries', group: 'registry', load: () => import('./commands/copy.js') },
  { name: 'inspect', summary: 'Show a manifest: media type, artifact type, config and layers', group: 'artifacts', load: () => import('./commands/inspect.js') },
  { name: 'discover', summary: 'List the artifacts that refer to a manifest (signatures, SBOMs, cards), as a tree', group: 'artifacts', load: () => import('./commands/discover.js') },
  { name: 'sign', summary: 'Sign a model folder or a packed artifact (OpenSSF Model Signing, cosign v3 referrers)', group: 'sign', load: () => import('./commands/sign.js') },
  { name: 'verify', summary: 'Verify a model folder or a packed artifact against its signatures and print each check', group: 'sign', load: () => import('./commands/verify.js') },
  { name: 'keys', summary: 'Generate a signing key pair (keys generate)', group: 'sign', load: () => import('./commands/keys.js') },
  { name: 'serve', summary: 'Serve a model behind an OpenAI-compatible API (native, podman or docker)', group: 'serve', load: () => import('./commands/serve.js') },
  { name: 'up', summary: 'Run a project as a pod (model server plus app) with podman kube play; --down removes it', group: 'serve', load: () => import('./commands/up.js') },
  { name: 'run', summary: 'Chat with a model in the terminal', group: 'serve', load: () => import('./commands/run.js') },
  { name: 'card', summary: 'Write the model card (README.md), data card (DATACARD.md) and MOF badge for a project', group: 'document', load: () => import('./commands/card.js') },
  { name: 'mof', summary: 'Model Openness Framework class of a project or MOT file; --require N gates on it', group: 'document', load: () => import('./commands/mof.js') },
  { name: 'login', summary: 'Check and store credentials for a registry (where docker and podman read them)', group: 'registry', load: () => import('./commands/login.js') },
  { name: 'logout', summary: 'Remove the stored credentials for a registry', group: 'registry', load: () => import('./commands/logout.js') },
  { name: 'sbom', summary: 'Write a CycloneDX 1.6 ML-BOM or SPDX 3.0.1 AI SBOM for a model', group: 'document', load: () => import('./commands/sbom.js') },
  { name: 'register', summary: 'Record a pushed model in a Kubeflow Model Registry (or the embedded one), pinned by digest', group: 'handoff', load: () => import('./commands/register.js') },
  { name: 'registry', summary: 'Serve the embedded model registry (Kubeflow Model Registry REST API) from $MODELSHIP_HOME', group: 'handoff', load: () => import('./commands/registry.js') },
  { name: 'quickstart', summary: 'The whole inner loop offline: project, pipeline, serve and ask, hand-off and registration, timed', group: 'project', load: () => import('./commands/quickstart.js') },
  { name: 'check', summary: 'Run the local pipeline on a project: pack, SBOM, cards, MOF gate, sign, verify', group: 'project', load: () => import('./commands/check.js') },
  { name: 'hooks', summary: 'Install the git pre-push hook that runs "modelship check" on pushes touching a model', group: 'project', load: () => import('./commands/hooks.js') },
  { name: 'ship', summary: 'Run the whole pipeline: pack, SBOM, cards, MOF gate, sign, verify, push, hand-off', group: 'project', load: () => import('./commands/ship.js') },
  { name: 'handoff', summary: 'Hand a signed model to the cluster: KServe, Flux/Argo CD and admission-policy manifests committed to a GitOps repository', group: 'handoff', load: () => import('./commands/handoff.js') },
  { name: 'trace', summary: 'Trace what runs in the cluster back to its registry record, signatures, SBOM, MOF class and source', group: 'handoff', load: () => import('./commands/trace.js') },
  { name: 'rag', summary: 'Index documents and serve a model with retrieval (rag index | rag serve)', group: 'serve', load: () => import('./commands/rag.js') },
];

export function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((c) => c.name === name);
}
