/**
 * KitOps Kitfile (pkg/artifact/kitfile.go) into a ModelSpec. Unknown keys are errors, as in kit
 * (KnownFields), and string fields keep their YAML source text (`version: 1.0` is "1.0").
 */
import path from 'node:path';
import { z } from 'zod';
import { ModelSpec, type SpecFileEntry } from './model-spec.js';
import { normalizeSpecPath } from './paths.js';
import { lineOf, parseYamlSource, readYamlAs, specError, fieldName } from './yaml-source.js';

const layerInfo = { digest: z.string().optional(), diffId: z.string().optional() };

export const Kitfile = z.strictObject({
  manifestVersion: z.string(),
  package: z
    .strictObject({
      name: z.string().optional(),
      version: z.string().optional(),
      description: z.string().optional(),
      license: z.string().optional(),
      authors: z.array(z.string()).optional(),
    })
    .optional(),
  model: z
    .strictObject({
      name: z.string().optional(),
      path: z.string().optional(),
      license: z.string().optional(),
      framework: z.string().optional(),
      format: z.string().optional(),
      version: z.string().optional(),
      description: z.string().optional(),
      parts: z
        .array(
          z.strictObject({
            name: z.string().optional(),
            path: z.string().optional(),
            license: z.string().optional(),
            type: z.string().max(63).regex(/^[\w][\w.-]*$/, 'letters, digits, "_", "." or "-", starting with a letter, digit or "_"').optional(),
            ...layerInfo,
          }),
        )
        .optional(),
      parameters: z.unknown().optional(),
      ...layerInfo,
    })
    .optional(),
  code: z.array(z.strictObject({ path: z.string().optional(), description: z.string().optional(), license: z.string().optional(), ...layerInfo })).optional(),
  datasets: z
    .array(
      z.strictObject({
        name: z.string().optional(),
        path: z.string().optional(),
        description: z.string().optional(),
        license: z.string().optional(),
        parameters: z.unknown().optional(),
        ...layerInfo,
      }),
    )
    .optional(),
  docs: z.array(z.strictObject({ path: z.string(), description: z.string().optional(), ...layerInfo })).optional(),
  prompts: z.array(z.strictObject({ path: z.string().optional(), description: z.string().optional(), ...layerInfo })).optional(),
  mcpServers: z
    .array(z.strictObject({ name: z.string(), path: z.string().regex(/\.mcpb$/, 'a path ending in .mcpb'), description: z.string().optional(), ...layerInfo }))
    .optional(),
});
export type Kitfile = z.infer<typeof Kitfile>;

/** Part types that describe configuration rather than weights. */
const CONFIG_PART_TYPE = /config|tokenizer|vocab/i;

export interface ParseContext {
  /** Shown in errors; usually the absolute path of the file. */
  file: string;
  contextDir: string;
}

export function parseKitfile(text: string, ctx: ParseContext): ModelSpec {
  const src = parseYamlSource(text, ctx.file);
  const kit = readYamlAs(src, Kitfile, 'a Kitfile');
  const files: SpecFileEntry[] = [];
  const seen = new Map<string, string>();
  const add = (fieldPath: (string | number)[], raw: string | undefined, entry: Omit<SpecFileEntry, 'path'>) => {
    // KitOps treats an empty path as the context directory.
    const normal = normalizeSpecPath(raw === undefined || raw === '' ? '.' : raw);
    if ('error' in normal) throw specError(ctx.file, lineOf(src, fieldPath), `${fieldName(fieldPath)} ${normal.error}`);
    // KitOps refuses the same path twice across model, parts, datasets, code and docs.
    const earlier = seen.get(normal.path);
    if (earlier) throw specError(ctx.file, lineOf(src, fieldPath), `${fieldName(fieldPath)} "${normal.path}" is already listed at ${earlier}; each path may appear once`);
    seen.set(normal.path, fieldName(fieldPath));
    files.push(dropUndefined({ ...entry, path: normal.path }));
  };
  const model = kit.model;
  if (model && model.path !== undefined) add(['model', 'path'], model.path, { kind: 'weight', name: model.name, license: model.license, description: model.description });
  model?.parts?.forEach((part, i) =>
    add(['model', 'parts', i, 'path'], part.path, {
      kind: part.type && CONFIG_PART_TYPE.test(part.type) ? 'weightConfig' : 'weight',
      name: part.name,
      license: part.license,
    }),
  );
  kit.code?.forEach((c, i) => add(['code', i, 'path'], c.path, { kind: 'code', description: c.description, license: c.license }));
  kit.datasets?.forEach((d, i) => add(['datasets', i, 'path'], d.path, { kind: 'dataset', name: d.name, description: d.description, license: d.license }));
  kit.docs?.forEach((d, i) => add(['docs', i, 'path'], d.path, { kind: 'doc', description: d.description }));
  // Prompts are text the model is run with: documentation to ModelPack.
  kit.prompts?.forEach((p, i) => add(['prompts', i, 'path'], p.path, { kind: 'doc', description: p.description }));
  kit.mcpServers?.forEach((m, i) => add(['mcpServers', i, 'path'], m.path, { kind: 'code', name: m.name, description: m.description }));

  const licenses = unique([kit.package?.license, model?.license]);
  return ModelSpec.parse({
    source: { format: 'kitfile', file: ctx.file },
    contextDir: path.resolve(ctx.contextDir),
    descriptor: dropUndefined({
      name: kit.package?.name ?? model?.name,
      version: kit.package?.version ?? model?.version,
      description: kit.package?.description ?? model?.description,
      authors: kit.package?.authors,
      licenses: licenses.length ? licenses : undefined,
    }),
    config: dropUndefined({ format: model?.format ?? frameworkFormat(model?.framework) }),
    files,
    ignore: [],
    pipeline: {},
    originalText: text,
  });
}

/** A framework name says the format when the Kitfile gives none. */
function frameworkFormat(framework: string | undefined): string | undefined {
  if (!framework) return undefined;
  const f = framework.toLowerCase();
  if (f.includes('pytorch') || f === 'torch') return 'pytorch';
  if (f.includes('tensorflow') || f === 'keras') return 'tensorflow';
  if (f.includes('onnx')) return 'onnx';
  return undefined;
}

export function unique(values: (string | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => typeof v === 'string' && v.length > 0))];
}

export function dropUndefined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}
