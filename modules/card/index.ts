/**
 * Model and data cards, and the Model Openness Framework class: classify MOT files as the MOT
 * does, derive the MOF components of a project, write cards, and give the documents to attach.
 */
export { MOF_COMPONENTS, CLASS_LABELS, componentByName } from './mof/components.js';
export type { MofComponent, MofClass } from './mof/components.js';
export { classifyMot } from './mof/classify.js';
export { evaluateMot, meetsClass } from './mof/evaluate.js';
export type { MofEvaluation } from './mof/evaluate.js';
export { parseMotYaml, motYamlText } from './mof/mot-document.js';
export type { MotDocument, MotRelease, MotComponent, MotLicenseRef } from './mof/mot-document.js';
export { deriveMof, componentsOfFile } from './mof/derive.js';
export type { MofDerivation, DerivedComponent, MissingComponent } from './mof/derive.js';
export { scanProject } from './mof/facts.js';
export type { ProjectFacts, ProjectFile } from './mof/facts.js';
export { isOpenLicense, isTypeAppropriate, normalizeLicenseId, hfLicenseFor } from './mof/licenses.js';
export type { LicenseIdResult } from './mof/licenses.js';
export { detectLicense } from './mof/license-file.js';
export { parseCard } from './card/front-matter.js';
export type { ParsedCard } from './card/front-matter.js';
export { parseEvalResults, toModelIndex, fromModelIndex, isEvalResultsFile } from './card/eval-results.js';
export type { EvalResult, EvalMetric } from './card/eval-results.js';
export { buildModelCard, buildDataCard, fillIn, unfilledSections } from './card/model-card.js';
export type { CardInputs } from './card/model-card.js';
export { mofBadgeSvg } from './render/badge.js';
export { renderCardHtml } from './render/html.js';
export { readProject } from './project.js';
export type { ProjectView, ReadProjectOptions, SpecLoader } from './project.js';
export { buildCardSet, writeCardSet, BADGE_FILE } from './write.js';
export { writeFileAtomic } from '../fs/atomic.js';
export type { CardSet } from './write.js';
export {
  mofReport, mofReportDocument, modelCardDocument, dataCardDocument,
  MOF_REPORT_ARTIFACT_TYPE, MODEL_CARD_ARTIFACT_TYPE, DATA_CARD_ARTIFACT_TYPE, MARKDOWN_MEDIA_TYPE,
} from './documents.js';
export type { AttachableDocument, MofReport } from './documents.js';
