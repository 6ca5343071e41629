/**
 * What `trace` starts from: an InferenceService (a GitOps repository's file, or what
 * `kubectl get … -o yaml` prints, a List included), or a pinned `oci://HOST/REPO@sha256:…` URI.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { ModelshipError, UsageError, describeError } from '../errors/index.js';
import type { Mount } from '../gitops/model-ref.js';
import { parseYamlDocuments } from '../project/yaml-source.js';
import {
  DIGEST_ANNOTATION, MODEL_ARTIFACT_ID_ANNOTATION, MODEL_REGISTRY_URL_ANNOTATION, MODEL_VERSION_ID_LABEL, REGISTERED_MODEL_ID_LABEL,
} from '../gitops/serving.js';
import { parseRemoteReference, type RemoteReference } from '../oci/reference.js';

type Obj = Record<string, unknown>;

export interface TraceInput {
  /** The file or URI as given, for messages. */
  given: string;
  kind: 'inferenceservice' | 'uri';
  /** The storageUri as written. */
  storageUri: string;
  mount: Mount;
  image: RemoteReference;
  /** The InferenceService, when the input is one. */
  inferenceService?: {
    name?: string;
    namespace?: string;
    /** The file it was read from. */
    file: string;
    /** modelship.dev/digest, which the hand-off writes beside storageUri. */
    digestAnnotation?: string;
    /** The registry ids and URL the hand-off labels the InferenceService with. */
    registry: { registeredModelId?: string; modelVersionId?: string; modelArtifactId?: string; url?: string };
    /** What the cluster reported, in a `kubectl get -o yaml` dump. */
    status?: { ready?: string; url?: string; reason?: string };
    /** The hand-off layout the file sits in: <model folder>/overlays/<env>/. */
    gitops?: { modelFolder: string; env: string };
  };
}

const URI_SCHEMES: Record<string, Mount> = { 'oci://': 'modelcar', 'oci+native://': 'image-volume' };

/** `oci://HOST/REPO@sha256:…` (ModelCar) or `oci+native://…` (image volume), as the hand-off writes storageUri. */
export function parseStorageUri(uri: string, where: string): { mount: Mount; image: RemoteReference } {
  const scheme = Object.keys(URI_SCHEMES).find((s) => uri.startsWith(s));
  if (!scheme) throw new ModelshipError('INPUT_INVALID', `${where}: storageUri "${uri}" is not an OCI model (oci://HOST/REPO@sha256:… or oci+native://…); trace follows models served from a registry`);
  let image: RemoteReference;
  try {
    image = parseRemoteReference(uri.slice(scheme.length));
  } catch (err) {
    throw new ModelshipError('INPUT_INVALID', `${where}: storageUri "${uri}" is not a registry reference: ${describeError(err)}`, { cause: err });
  }
  return { mount: URI_SCHEMES[scheme]!, image };
}

export async function readTraceInput(input: string, cwd: string, opts: { name?: string } = {}): Promise<TraceInput> {
  if (Object.keys(URI_SCHEMES).some((s) => input.startsWith(s))) {
    if (opts.name !== undefined) throw new UsageError('--name picks an InferenceService in a file; an oci:// URI names one model already');
    return { given: input, kind: 'uri', storageUri: input, ...parseStorageUri(input, input) };
  }
  const file = resolve(cwd, input);
  const info = await stat(file).catch(() => undefined);
  if (!info) throw new ModelshipError('INPUT_INVALID', `${input} is neither an oci://HOST/REPO@sha256:… URI nor a file here (${file}); give an InferenceService YAML file, a "kubectl get inferenceservice NAME -o yaml" dump, or the storageUri`);
  if (!info.isFile()) throw new ModelshipError('INPUT_INVALID', `${file} is not a file; give the InferenceService file in it (e.g. overlays/dev/inferenceservice-pin.yaml)`);
  if (info.size > MAX_FILE_BYTES) throw new ModelshipError('INPUT_INVALID', `${file} is ${info.size} bytes, more than an InferenceService dump holds (${MAX_FILE_BYTES}); give one object or a List`);
  const objects = parseObjects(await readFile(file, 'utf8'), file);
  const services = objects.filter((o) => o['kind'] === 'InferenceService');
  if (!services.length) {
    const kinds = [...new Set(objects.map((o) => String(o['kind'] ?? '(no kind)')))];
    throw new ModelshipError('INPUT_INVALID', `${file} holds no InferenceService${kinds.length ? ` (it holds ${kinds.join(', ')})` : ''}; give the InferenceService file of the GitOps repository or "kubectl get inferenceservice NAME -o yaml"`);
  }
  const named = opts.name === undefined ? services : services.filter((s) => metadataOf(s)['name'] === opts.name);
  const names = services.map((s) => String(metadataOf(s)['name'] ?? '(unnamed)'));
  if (!named.length) throw new UsageError(`${file} has no InferenceService named "${opts.name}"; it has ${names.join(', ')}`);
  if (named.length > 1) throw new UsageError(`${file} holds ${named.length} InferenceServices (${names.join(', ')}): pick one with --name NAME`);
  return inferenceServiceInput(named[0]!, input, file);
}

const MAX_FILE_BYTES = 16 * 1024 * 1024;

function parseObjects(text: string, file: string): Obj[] {
  const out: Obj[] = [];
  const values = parseYamlDocuments(text, (line, message) => new ModelshipError('INPUT_INVALID', `${file}${line ? ` line ${line}` : ''} is not valid YAML: ${message}`));
  for (const value of values) {
    if (!isObj(value)) throw new ModelshipError('INPUT_INVALID', `${file} holds a YAML document that is not a Kubernetes object (a ${Array.isArray(value) ? 'list' : typeof value})`);
    // kubectl prints several objects as a List (kind: List, or InferenceServiceList from the API).
    if (Array.isArray(value['items']) && typeof value['kind'] === 'string' && value['kind'].endsWith('List')) out.push(...value['items'].filter(isObj));
    else out.push(value);
  }
  return out;
}

function inferenceServiceInput(service: Obj, given: string, file: string): TraceInput {
  const metadata = metadataOf(service);
  const name = typeof metadata['name'] === 'string' ? metadata['name'] : undefined;
  const where = `${file}${name ? ` (InferenceService ${name})` : ''}`;
  const storageUri = storageUriOf(service);
  if (!storageUri) {
    throw new ModelshipError('INPUT_INVALID', `${where} has no spec.predictor.model.storageUri: the hand-off's base leaves it out; give the environment's file (overlays/ENV/inferenceservice-pin.yaml) or what the cluster runs ("kubectl get inferenceservice ${name ?? 'NAME'} -o yaml")`);
  }
  const labels = stringMap(metadata['labels']);
  const annotations = stringMap(metadata['annotations']);
  const namespace = typeof metadata['namespace'] === 'string' ? metadata['namespace'] : undefined;
  const registry = {
    ...(labels[REGISTERED_MODEL_ID_LABEL] ? { registeredModelId: labels[REGISTERED_MODEL_ID_LABEL] } : {}),
    ...(labels[MODEL_VERSION_ID_LABEL] ? { modelVersionId: labels[MODEL_VERSION_ID_LABEL] } : {}),
    ...(annotations[MODEL_ARTIFACT_ID_ANNOTATION] ? { modelArtifactId: annotations[MODEL_ARTIFACT_ID_ANNOTATION] } : {}),
    ...(annotations[MODEL_REGISTRY_URL_ANNOTATION] ? { url: annotations[MODEL_REGISTRY_URL_ANNOTATION] } : {}),
  };
  const status = statusOf(service);
  const gitops = layoutOf(file);
  return {
    given, kind: 'inferenceservice', storageUri, ...parseStorageUri(storageUri, where),
    inferenceService: {
      ...(name ? { name } : {}), ...(namespace ? { namespace } : {}), file,
      ...(annotations[DIGEST_ANNOTATION] ? { digestAnnotation: annotations[DIGEST_ANNOTATION] } : {}),
      registry, ...(status ? { status } : {}), ...(gitops ? { gitops } : {}),
    },
  };
}

/** spec.predictor.model.storageUri, or the older per-framework form (spec.predictor.sklearn.storageUri …). */
function storageUriOf(service: Obj): string | undefined {
  const predictor = isObj(service['spec']) && isObj(service['spec']['predictor']) ? service['spec']['predictor'] : undefined;
  if (!predictor) return undefined;
  const model = predictor['model'];
  if (isObj(model) && typeof model['storageUri'] === 'string') return model['storageUri'];
  for (const value of Object.values(predictor)) if (isObj(value) && typeof value['storageUri'] === 'string') return value['storageUri'];
  return undefined;
}

/** The Ready condition and URL KServe reports in status. */
function statusOf(service: Obj): { ready?: string; url?: string; reason?: string } | undefined {
  const status = service['status'];
  if (!isObj(status)) return undefined;
  const ready = Array.isArray(status['conditions']) ? status['conditions'].filter(isObj).find((c) => c['type'] === 'Ready') : undefined;
  const out = {
    ...(ready && typeof ready['status'] === 'string' ? { ready: ready['status'] } : {}),
    ...(ready && typeof ready['reason'] === 'string' ? { reason: ready['reason'] } : {}),
    ...(typeof status['url'] === 'string' ? { url: status['url'] } : {}),
  };
  return Object.keys(out).length ? out : undefined;
}

/** <model folder>/overlays/<env>/<file>: the layout the hand-off writes (gitops/layout.ts). */
function layoutOf(file: string): { modelFolder: string; env: string } | undefined {
  const envDir = dirname(file);
  const overlays = dirname(envDir);
  if (basename(overlays) !== 'overlays') return undefined;
  return { modelFolder: dirname(overlays), env: basename(envDir) };
}

function metadataOf(o: Obj): Obj {
  return isObj(o['metadata']) ? o['metadata'] : {};
}

function stringMap(v: unknown): Record<string, string> {
  if (!isObj(v)) return {};
  return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
