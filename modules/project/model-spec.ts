/**
 * ModelSpec: the one shape every step sees, whichever file described the model
 * (modelship.yaml, a KitOps Kitfile or a modctl Modelfile). Field names follow the
 * ModelPack config (descriptor + config) so packing maps them one to one.
 */
import { z } from 'zod';

/** What a file is to the model; maps to the ModelPack layer media types. */
export const FileKind = z.enum(['weight', 'weightConfig', 'doc', 'code', 'dataset']);
export type FileKind = z.infer<typeof FileKind>;

export const SpecFileEntry = z.object({
  kind: FileKind,
  /** Path or glob relative to the context directory; a directory means everything under it. */
  path: z.string().min(1),
  name: z.string().optional(),
  description: z.string().optional(),
  /** SPDX expression for this part, e.g. a dataset's licence. */
  license: z.string().optional(),
});
export type SpecFileEntry = z.infer<typeof SpecFileEntry>;

export const ModelCapabilities = z.object({
  inputTypes: z.array(z.string()).optional(),
  outputTypes: z.array(z.string()).optional(),
  knowledgeCutoff: z.string().optional(),
  reasoning: z.boolean().optional(),
  toolUsage: z.boolean().optional(),
  reward: z.boolean().optional(),
  languages: z.array(z.string()).optional(),
});

/** ModelPack `descriptor` fields. */
export const ModelDescriptorFields = z.object({
  name: z.string().optional(),
  version: z.string().optional(),
  family: z.string().optional(),
  vendor: z.string().optional(),
  title: z.string().optional(),
  description: z.string().optional(),
  authors: z.array(z.string()).optional(),
  licenses: z.array(z.string()).optional(),
  docURL: z.string().optional(),
  sourceURL: z.string().optional(),
  datasetsURL: z.string().optional(),
  revision: z.string().optional(),
});

/** ModelPack `config` fields. */
export const ModelConfigFields = z.object({
  architecture: z.string().optional(),
  format: z.string().optional(),
  paramSize: z.string().optional(),
  precision: z.string().optional(),
  quantization: z.string().optional(),
  capabilities: ModelCapabilities.optional(),
});

/** Settings later pipeline steps read; all optional so a bare Kitfile still works. */
export const PipelineSettings = z.object({
  registry: z.string().optional(),
  signing: z
    .object({
      method: z.enum(['key', 'keyless', 'certificate']).optional(),
      key: z.string().optional(),
      identity: z.string().optional(),
      issuer: z.string().optional(),
      notation: z.boolean().optional(),
    })
    .optional(),
  gitops: z
    .object({
      repository: z.string().optional(),
      branch: z.string().optional(),
      path: z.string().optional(),
      flavor: z.enum(['flux', 'argocd']).optional(),
      namespace: z.string().optional(),
    })
    .optional(),
  modelRegistry: z.object({ url: z.string().optional(), embedded: z.boolean().optional() }).optional(),
  mof: z.object({ require: z.union([z.literal(1), z.literal(2), z.literal(3)]).optional() }).optional(),
});
export type PipelineSettings = z.infer<typeof PipelineSettings>;

export const ModelSpec = z.object({
  /** Where this spec came from, for error messages and provenance. */
  source: z.object({
    format: z.enum(['modelship', 'kitfile', 'modelfile', 'none']),
    /** Absolute path of the spec file; absent when the folder had none. */
    file: z.string().optional(),
  }),
  /** Absolute path of the folder the file paths are relative to. */
  contextDir: z.string(),
  descriptor: ModelDescriptorFields,
  config: ModelConfigFields,
  files: z.array(SpecFileEntry),
  /** Paths to leave out (gitignore-style patterns, e.g. from .kitignore / .modelshipignore). */
  ignore: z.array(z.string()).default([]),
  pipeline: PipelineSettings.default({}),
  /** The spec file's original text, kept for annotations such as `ml.kitops.modelkit.kitfile`. */
  originalText: z.string().optional(),
});
export type ModelSpec = z.infer<typeof ModelSpec>;
