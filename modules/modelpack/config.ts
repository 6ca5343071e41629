/**
 * The ModelPack config blob (application/vnd.cncf.model.config.v1+json): built from a ModelSpec,
 * serialised deterministically, validated against the upstream schema plus the checks it lacks,
 * and read back from cncf or legacy snake_case configs.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { z } from 'zod';
import { parseJsonBounded } from '../json/bounded.js';
import { ModelshipError } from '../errors/index.js';
import { isDigest } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';
import { ModelConfigFields, ModelDescriptorFields, type ModelSpec } from '../project/model-spec.js';
import { PARAM_SIZE_PATTERN } from '../project/param-size.js';
import { validate as compiledConfigSchema } from './config-schema.generated.js';
import { parseLayerMediaType } from './mediatypes.js';

export const ModelPackDescriptor = ModelDescriptorFields.extend({
  createdAt: z.string().optional(),
  /** The config schema makes this a list, where a spec names one URL. */
  datasetsURL: z.array(z.string()).optional(),
});
export const ModelPackConfig = z.object({
  descriptor: ModelPackDescriptor,
  config: ModelConfigFields,
  modelfs: z.object({ type: z.literal('layers'), diffIds: z.array(z.string()) }),
});
export type ModelPackConfig = z.infer<typeof ModelPackConfig>;

export interface BuildConfigOptions {
  /** RFC 3339 creation time; left out by default so builds are reproducible. */
  created?: string;
}

/** The config object for a spec whose layers have these diffIds (in layer order). */
export function buildModelConfig(spec: ModelSpec, diffIds: string[], opts: BuildConfigOptions = {}): ModelPackConfig {
  const { datasetsURL, ...rest } = spec.descriptor;
  const descriptor: ModelPackConfig['descriptor'] = { ...rest };
  if (datasetsURL) descriptor.datasetsURL = [datasetsURL];
  if (opts.created) descriptor.createdAt = opts.created;
  return { descriptor, config: { ...spec.config }, modelfs: { type: 'layers', diffIds: [...diffIds] } };
}

const DESCRIPTOR_ORDER = ['createdAt', 'authors', 'vendor', 'family', 'name', 'version', 'title', 'description',
  'docURL', 'sourceURL', 'datasetsURL', 'revision', 'licenses'];
const CONFIG_ORDER = ['architecture', 'format', 'paramSize', 'precision', 'quantization', 'capabilities'];
const CAPABILITY_ORDER = ['inputTypes', 'outputTypes', 'knowledgeCutoff', 'reasoning', 'toolUsage', 'reward', 'languages'];

/** Keys in the spec's order (unknown ones after, sorted) and undefined/empty-string values dropped. */
function ordered(obj: Record<string, unknown>, order: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const extra = Object.keys(obj).filter((k) => !order.includes(k)).sort();
  for (const key of [...order, ...extra]) {
    const value = obj[key];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

/** Compact JSON with a fixed key order, so the same spec always gives the same config digest. */
export function serializeConfig(config: ModelPackConfig): Uint8Array {
  const capabilities = config.config.capabilities;
  const shaped = {
    descriptor: ordered(config.descriptor, DESCRIPTOR_ORDER),
    config: ordered({ ...config.config, capabilities: capabilities ? ordered(capabilities, CAPABILITY_ORDER) : undefined }, CONFIG_ORDER),
    modelfs: { type: config.modelfs.type, diffIds: config.modelfs.diffIds },
  };
  return new TextEncoder().encode(JSON.stringify(shaped));
}

/** The upstream schema, compiled ahead by scripts/generate-config-validator.mjs: no ajv compile at start-up. */
function schemaValidator(): ValidateFunction {
  return compiledConfigSchema as ValidateFunction;
}

export interface ConfigProblem {
  /** JSON pointer of the bad field, e.g. /config/paramSize. */
  path: string;
  message: string;
}

export interface ValidateConfigOptions {
  /** The manifest's layers: diffIds must match them in count and, where the layer is uncompressed, in digest. */
  layers?: Descriptor[];
}

function schemaProblem(e: ErrorObject): ConfigProblem {
  const extra = e.keyword === 'additionalProperties' ? ` "${String((e.params as { additionalProperty?: string }).additionalProperty)}"` : '';
  return { path: e.instancePath || '/', message: `${e.message ?? e.keyword}${extra}` };
}

/** Every problem with a config object: the upstream schema, then the rules the schema does not state. */
export function modelConfigProblems(obj: unknown, opts: ValidateConfigOptions = {}): ConfigProblem[] {
  const validate = schemaValidator();
  const problems: ConfigProblem[] = validate(obj) ? [] : (validate.errors ?? []).map(schemaProblem);
  if (typeof obj !== 'object' || obj === null) return problems;
  const cfg = obj as { config?: { paramSize?: unknown }; modelfs?: { diffIds?: unknown } };
  const paramSize = cfg.config?.paramSize;
  if (typeof paramSize === 'string' && !PARAM_SIZE_PATTERN.test(paramSize)) {
    problems.push({ path: '/config/paramSize', message: `"${paramSize}" is not <number><Q|T|B|M|K>, e.g. 7B, 125M, 1.5T` });
  }
  const diffIds = cfg.modelfs?.diffIds;
  if (Array.isArray(diffIds)) {
    diffIds.forEach((id, i) => {
      if (typeof id === 'string' && !isDigest(id)) problems.push({ path: `/modelfs/diffIds/${i}`, message: `"${id}" is not a digest (sha256:<64 hex>)` });
    });
    if (opts.layers) problems.push(...layerProblems(diffIds, opts.layers));
  }
  return problems;
}

function layerProblems(diffIds: unknown[], layers: Descriptor[]): ConfigProblem[] {
  if (diffIds.length !== layers.length) {
    return [{ path: '/modelfs/diffIds', message: `has ${diffIds.length} entries but the manifest has ${layers.length} layers: one diffId per layer, in layer order` }];
  }
  const problems: ConfigProblem[] = [];
  layers.forEach((layer, i) => {
    const format = parseLayerMediaType(layer.mediaType)?.format;
    // Only uncompressed layers have diffId == digest; compressed ones would need decompressing to check.
    if ((format === 'raw' || format === 'tar') && diffIds[i] !== layer.digest) {
      problems.push({ path: `/modelfs/diffIds/${i}`, message: `is ${String(diffIds[i])} but layer ${i} (${layer.mediaType}) has digest ${layer.digest}: uncompressed layers have diffId == digest, in layer order` });
    }
  });
  return problems;
}

/** Throws MODELPACK_CONFIG_INVALID listing every bad field; returns the typed config otherwise. */
export function validateModelConfig(obj: unknown, opts: ValidateConfigOptions & { where?: string } = {}): ModelPackConfig {
  const problems = modelConfigProblems(obj, opts);
  if (problems.length > 0) {
    const where = opts.where ? ` in ${opts.where}` : '';
    throw new ModelshipError(
      'MODELPACK_CONFIG_INVALID',
      `invalid ModelPack config${where}:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`,
      { details: { problems } },
    );
  }
  return obj as ModelPackConfig;
}

/** snake_case keys that do not camel-case mechanically. */
const LEGACY_KEYS: Record<string, string> = { doc_url: 'docURL', source_url: 'sourceURL', datasets_url: 'datasetsURL', model_fs: 'modelfs' };

function camelKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelKeys);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const name = LEGACY_KEYS[key] ?? key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    out[name] = camelKeys(v);
  }
  return out;
}

/** Reads a config blob, cncf or legacy (diff_ids, input_types...), into the typed shape. */
export function parseModelConfig(bytes: Uint8Array | string, where = 'model config'): ModelPackConfig {
  let raw: unknown;
  try {
    raw = parseJsonBounded(typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes), (limit) =>
      new ModelshipError('MODELPACK_CONFIG_INVALID', `${where} nests arrays or objects more than ${limit} deep; no model config does: the artifact is malformed or malicious`),
    );
  } catch (err) {
    if (err instanceof ModelshipError) throw err;
    throw new ModelshipError('MODELPACK_CONFIG_INVALID', `${where} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const obj = camelKeys(raw) as Record<string, unknown>;
  // Legacy configs may carry datasetsURL as one string.
  const descriptor = obj['descriptor'] as Record<string, unknown> | undefined;
  if (descriptor && typeof descriptor['datasetsURL'] === 'string') descriptor['datasetsURL'] = [descriptor['datasetsURL']];
  const parsed = ModelPackConfig.safeParse({ descriptor: {}, config: {}, ...obj });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  /${i.path.join('/')}: ${i.message}`).join('\n');
    throw new ModelshipError('MODELPACK_CONFIG_INVALID', `${where} is not a ModelPack config:\n${problems}`, { cause: parsed.error });
  }
  return parsed.data;
}

