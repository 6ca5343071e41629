/**
 * The contract between the hand-off and the model registry: what `handoff` asks `register` to record,
 * and what it gets back (the ids that label the InferenceService).
 */

/** One model version to record: idempotent by (name, version). */
export interface RegisterInput {
  /** Registered model name, e.g. "team-tiny-chat". */
  name: string;
  /** Version name, e.g. "v1" (the tag) or the short digest when no tag. */
  version: string;
  /** `oci://host/repo@sha256:…`: never a moving tag. */
  uri: string;
  /** `sha256:…` of the manifest (or ModelCar index) that `uri` pins. */
  digest: string;
  /** e.g. "gguf", "safetensors", "onnx". */
  modelFormatName?: string;
  modelFormatVersion?: string;
  description?: string;
  author?: string;
  /** Extra custom properties (string values): signature identity, SBOM digest, MOF class, … */
  properties?: Record<string, string>;
}

export interface RegisterResult {
  registeredModelId: string;
  modelVersionId: string;
  modelArtifactId: string;
  /** What this call created (false: found and left as it was, or updated in place). */
  created: { registeredModel: boolean; modelVersion: boolean; modelArtifact: boolean };
  /** Base URL of the registry that was written, or "embedded:<path>" for the embedded one. */
  registry: string;
}

/** Registers one version; the hand-off receives this function so tests and doors can pass their own registry. */
export type RegisterModelVersion = (input: RegisterInput) => Promise<RegisterResult>;
