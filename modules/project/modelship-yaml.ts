/**
 * `modelship.yaml`: the model (ModelPack descriptor and config fields) plus the pipeline settings.
 * The zod schema here is the one source of the published JSON Schema (schemas/modelship.schema.json).
 */
import path from 'node:path';
import { loadYaml } from '../fs/lazy-packages.js';
import { z } from 'zod';
import { FileKind, ModelCapabilities, ModelSpec, PipelineSettings, type SpecFileEntry } from './model-spec.js';
import { normalizeSpecPath } from './paths.js';
import { PARAM_SIZE_PATTERN } from './param-size.js';
import { lineOf, parseYamlSource, readYamlAs, specError, fieldName } from './yaml-source.js';
import { dropUndefined, unique, type ParseContext } from './kitfile.js';

export const MODELSHIP_SCHEMA_ID = 'urn:modelship:schema:modelship.yaml';
export const MODELSHIP_SCHEMA_FILE = 'modelship.schema.json';

/** Same shape, but unknown keys at any depth are errors (a typo must not pass silently). */
function strictDeep(schema: z.ZodType): z.ZodType {
  if (schema instanceof z.ZodOptional) return strictDeep(schema.unwrap() as z.ZodType).optional();
  if (schema instanceof z.ZodDefault) return strictDeep(schema.unwrap() as z.ZodType).optional();
  if (schema instanceof z.ZodArray) return z.array(strictDeep(schema.element as z.ZodType));
  if (schema instanceof z.ZodObject) {
    return z.strictObject(Object.fromEntries(Object.entries(schema.shape as Record<string, z.ZodType>).map(([k, v]) => [k, strictDeep(v)])));
  }
  return schema;
}

const Modality = z.enum(['text', 'image', 'audio', 'video', 'embedding', 'other']);

const FileRef = z.strictObject({
  path: z.string().min(1).describe('File, folder or glob, relative to this file\'s folder'),
  name: z.string().optional(),
  description: z.string().optional(),
  license: z.string().optional().describe('SPDX expression for this file'),
});
const FileList = z.array(z.union([z.string().min(1), FileRef]));

export const ModelshipFile = z
  .strictObject({
    name: z.string().min(1).optional().describe('Model name, e.g. llama3-8b-instruct'),
    version: z.string().optional().describe('Model version; `1.0` stays the string "1.0"'),
    title: z.string().optional(),
    description: z.string().optional(),
    vendor: z.string().optional(),
    family: z.string().optional().describe('Model family, e.g. llama3, qwen2'),
    authors: z.array(z.string()).optional(),
    license: z.string().optional().describe('SPDX license expression, e.g. Apache-2.0'),
    licenses: z.array(z.string()).optional().describe('SPDX license expressions, when there are several'),
    docURL: z.string().optional(),
    sourceURL: z.string().optional(),
    datasetsURL: z.string().optional(),
    revision: z.string().optional(),
    model: z
      .strictObject({
        architecture: z.string().optional().describe('e.g. llama, transformer, cnn'),
        format: z.string().optional().describe('e.g. gguf, safetensors, onnx, pytorch'),
        paramSize: z.string().regex(PARAM_SIZE_PATTERN, '<number><Q|T|B|M|K>, e.g. 7B, 125M').optional().describe('<number><Q|T|B|M|K>, e.g. 7B'),
        precision: z.string().optional().describe('e.g. bf16, fp16, int8'),
        quantization: z.string().optional().describe('e.g. Q4_K_M, awq, gptq'),
        capabilities: z
          .strictObject({
            ...(ModelCapabilities.shape as Record<string, z.ZodType>),
            // Checked here as the ModelPack schema does, so mistakes surface with a line number.
            inputTypes: z.array(Modality).optional(),
            outputTypes: z.array(Modality).optional(),
            knowledgeCutoff: z.iso.datetime({ offset: true }).optional().describe('RFC 3339 date-time, e.g. 2024-05-01T00:00:00Z'),
            languages: z.array(z.string().regex(/^[a-z]{2}$/, 'a two-letter ISO 639-1 code such as en')).optional(),
          })
          .optional(),
      })
      .optional()
      .describe('The ModelPack config fields'),
    files: z.array(FileRef.extend({ kind: FileKind })).optional().describe('Every file with its kind; or use the shorthand lists'),
    weights: FileList.optional().describe('Weight files (ModelPack weight layers)'),
    config: FileList.optional().describe('Weight configuration: config.json, tokenizer files (ModelPack weight.config layers)'),
    docs: FileList.optional(),
    code: FileList.optional(),
    datasets: FileList.optional(),
    ignore: z.array(z.string()).optional().describe('gitignore-style patterns to leave out'),
    pipeline: strictDeep(PipelineSettings).optional().describe('Settings for push, sign, GitOps, model registry and the MOF gate'),
  })
  .meta({ title: 'modelship.yaml', description: 'A model project for modelship: the model, its files and pipeline settings.' });
export type ModelshipFile = z.infer<typeof ModelshipFile>;

const SHORTHAND: [keyof ModelshipFile, FileKind][] = [
  ['weights', 'weight'],
  ['config', 'weightConfig'],
  ['docs', 'doc'],
  ['code', 'code'],
  ['datasets', 'dataset'],
];

export function parseModelshipYaml(text: string, ctx: ParseContext): ModelSpec {
  const src = parseYamlSource(text, ctx.file);
  const doc = readYamlAs(src, ModelshipFile, 'modelship.yaml');
  const files: SpecFileEntry[] = [];
  const add = (fieldPath: (string | number)[], kind: FileKind, ref: string | z.infer<typeof FileRef>) => {
    const entry = typeof ref === 'string' ? { path: ref } : ref;
    const normal = normalizeSpecPath(entry.path);
    const at = typeof ref === 'string' ? fieldPath : [...fieldPath, 'path'];
    if ('error' in normal) throw specError(ctx.file, lineOf(src, at), `${fieldName(at)} ${normal.error}`);
    files.push(dropUndefined({ kind, path: normal.path, name: entry.name, description: entry.description, license: entry.license }));
  };
  doc.files?.forEach((f, i) => add(['files', i], f.kind, f));
  for (const [key, kind] of SHORTHAND) {
    (doc[key] as z.infer<typeof FileList> | undefined)?.forEach((ref, i) => add([key, i], kind, ref));
  }
  const licenses = unique([doc.license, ...(doc.licenses ?? [])]);
  const { architecture, format, paramSize, precision, quantization, capabilities } = doc.model ?? {};
  return ModelSpec.parse({
    source: { format: 'modelship', file: ctx.file },
    contextDir: path.resolve(ctx.contextDir),
    descriptor: dropUndefined({
      name: doc.name,
      version: doc.version,
      title: doc.title,
      description: doc.description,
      vendor: doc.vendor,
      family: doc.family,
      authors: doc.authors,
      licenses: licenses.length ? licenses : undefined,
      docURL: doc.docURL,
      sourceURL: doc.sourceURL,
      datasetsURL: doc.datasetsURL,
      revision: doc.revision,
    }),
    config: dropUndefined({ architecture, format, paramSize, precision, quantization, capabilities }),
    files,
    ignore: doc.ignore ?? [],
    pipeline: doc.pipeline ?? {},
    originalText: text,
  });
}

/** The modelship.yaml that describes `spec`, with the schema line editors use for completion. */
export function renderModelshipYaml(spec: ModelSpec, opts: { schemaRef?: string; comments?: Record<string, string> } = {}): string {
  const d = spec.descriptor;
  const body: Record<string, unknown> = dropUndefined({
    name: d.name,
    version: d.version,
    title: d.title,
    description: d.description,
    vendor: d.vendor,
    family: d.family,
    authors: d.authors,
    ...(d.licenses && d.licenses.length === 1 ? { license: d.licenses[0] } : { licenses: d.licenses }),
    docURL: d.docURL,
    sourceURL: d.sourceURL,
    datasetsURL: d.datasetsURL,
    revision: d.revision,
  });
  const model = dropUndefined({ ...spec.config });
  if (Object.keys(model).length) body['model'] = model;
  for (const [key, kind] of SHORTHAND) {
    const refs = spec.files
      .filter((f) => f.kind === kind)
      .map((f) => (f.name || f.description || f.license ? dropUndefined({ path: f.path, name: f.name, description: f.description, license: f.license }) : f.path));
    if (refs.length) body[key] = refs;
  }
  if (spec.ignore.length) body['ignore'] = spec.ignore;
  if (Object.keys(spec.pipeline).length) body['pipeline'] = spec.pipeline;
  const doc = new (loadYaml().Document)(body);
  doc.commentBefore = ` yaml-language-server: $schema=${opts.schemaRef ?? MODELSHIP_SCHEMA_ID}`;
  for (const [key, comment] of Object.entries(opts.comments ?? {})) {
    const node = doc.get(key, true) as { comment?: string } | undefined;
    if (node && typeof node === 'object') node.comment = ` ${comment}`;
  }
  // A version like 1.0 must be written quoted so it reads back as a string.
  return doc.toString({ lineWidth: 0, defaultStringType: 'PLAIN' });
}

/** The JSON Schema of modelship.yaml, as published in schemas/modelship.schema.json. */
export function modelshipJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ModelshipFile, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
  return { $schema: schema['$schema'], $id: MODELSHIP_SCHEMA_ID, ...schema };
}
