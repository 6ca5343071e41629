/**
 * modules/project: one typed ModelSpec from modelship.yaml, a KitOps Kitfile or a modctl Modelfile,
 * or from the files of a folder that has none.
 */
export { ModelSpec, FileKind, SpecFileEntry, ModelCapabilities, ModelDescriptorFields, ModelConfigFields, PipelineSettings } from './model-spec.js';
export { loadSpec, findSpecFile, formatOfFile, parseSpecText } from './load.js';
export type { SpecFormat, FoundSpecFile, LoadSpecOptions } from './load.js';
export { parseKitfile, Kitfile } from './kitfile.js';
export type { ParseContext } from './kitfile.js';
export { parseModelfile, MODELFILE_DIRECTIVES } from './modelfile.js';
export { parseModelshipYaml, renderModelshipYaml, modelshipJsonSchema, ModelshipFile, MODELSHIP_SCHEMA_ID, MODELSHIP_SCHEMA_FILE } from './modelship-yaml.js';
export { detectProject, detectSpec, listProjectFiles } from './detect.js';
export type { Detection, ProjectFile } from './detect.js';
export { classifyFile, weightFormat } from './classify.js';
export { createIgnoreMatcher, readIgnoreFiles, IGNORE_FILES } from './ignore.js';
export type { IgnoreMatcher, PatternDialect } from './ignore.js';
export { normalizeSpecPath, specEntryMatcher, specPathMatcher, specPathSpecificity } from './paths.js';
export { PARAM_SIZE_PATTERN, formatParamCount } from './param-size.js';
export { readSafetensorsHeader, dominantPrecision } from './safetensors.js';
export type { SafetensorsInfo } from './safetensors.js';
export { hfLicenseToSpdx, readHfConfig, readModelCard } from './huggingface.js';
export type { HfConfigFacts, ModelCardFacts } from './huggingface.js';
export { schemaFilePath, publishedSchemaUrl } from './schema-files.js';
export { MODELSHIP_FILE, SPEC_FILE_NAMES, KITFILE_NAMES, MODELFILE_NAMES } from './spec-files.js';
