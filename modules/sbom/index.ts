/**
 * modules/sbom: CycloneDX 1.6 ML-BOMs and SPDX 3.0.1 AI SBOMs built from what packing produced.
 */
export type {
  SbomInput,
  SbomSpec,
  SbomFile,
  SbomArtifact,
  EvaluationResult,
  ModelCardInfo,
  ModelConsiderations,
  Dependency,
  DependencyEcosystem,
} from './input.js';
export { buildSbom } from './build.js';
export type { SbomDocument } from './build.js';
export { buildCycloneDx, CYCLONEDX_MEDIA_TYPE, CYCLONEDX_SPEC_VERSION } from './cyclonedx.js';
export { validateCycloneDx, readCycloneDx } from './cyclonedx-read.js';
export type { CycloneDxView, CycloneDxComponentView, ModelCardView } from './cyclonedx-read.js';
export { buildSpdx, SPDX_MEDIA_TYPE, SPDX_CONTEXT, SPDX_VERSION, NO_ASSERTION_LICENSE, REPRODUCIBLE_CREATED } from './spdx.js';
export { validateSpdx, spdxMinimums } from './spdx-validate.js';
export type { SchemaError } from './ajv.js';
export { filesFromManifest } from './files.js';
export { sbomAttachment, serializeSbom, SBOM_ARTIFACT_TYPES, SBOM_FORMATS } from './attach.js';
export type { SbomAttachment, SbomFormat } from './attach.js';
export { sbomInputFromProject } from './project.js';
export { sbomInputFromArtifact, sbomInputFromManifest } from './artifact.js';
export type { PackedModel } from './artifact.js';
export type { ProjectInputOptions } from './project.js';
export { readReadme, evaluationRows } from './model-card.js';
export type { ReadmeFacts } from './model-card.js';
export { parseEvaluation, readEvaluationFile, EVALUATION_FILES } from './evaluation.js';
export { readDependencies, DEPENDENCY_FILES } from './deps/index.js';
export { classifyLicense, licenseExpression, cyclonedxLicenses, licenseRefFor } from './license.js';
export type { LicenseTerm } from './license.js';
export { pypiPurl, npmPurl, ociPurl, ociDownloadUri, normalizePypiName } from './purl.js';
export { taskFromCapabilities } from './facts.js';
