/**
 * modules/gitops: the hand-off to the cluster. KServe, Flux / Argo CD and admission-policy manifests
 * for an artifact's digest, validated offline against the CRDs, committed and pushed to a GitOps
 * repository, optionally proposed as a pull request.
 */
export { handoff, describeIdentity } from './handoff.js';
export { mofVerdict } from './mof-verdict.js';
export type { HandoffOptions, HandoffResult, MofVerdict } from './handoff.js';
export { buildLayout, checkLayout, modelFolder } from './layout.js';
export type { LayoutFile, LayoutInput } from './layout.js';
export { validateManifest, assertManifestsValid, crdSchemaFile, strictSchema, DNS_LABEL } from './crd-validate.js';
export type { ManifestIssue } from './crd-validate.js';
export { storageUri, imageReference, assertPinned, assertDeploymentName, toDeploymentName, ENVIRONMENTS } from './model-ref.js';
export type { Mount, Delivery, AdmissionPolicy, Environment, PinnedImage, SignerIdentity, ModelDeployment } from './model-ref.js';
export {
  baseInferenceService, inferenceServicePin, llamaCppServingRuntime, mergeObjects, registryLink,
  REGISTERED_MODEL_ID_LABEL, MODEL_VERSION_ID_LABEL, MODEL_REGISTRY_NAME_LABEL, MODEL_REGISTRY_NAMESPACE_LABEL, MODEL_REGISTRY_URL_ANNOTATION, DIGEST_ANNOTATION,
} from './serving.js';
export { fluxObjects, argoApplication, environmentName } from './delivery.js';
export { admissionPolicy, imagePatterns, policyName, POLICY_CONTROLLER_INCLUDE_LABEL } from './admission.js';
export { clusterVersions, compatPlan, parseRelease, formatRelease, atLeast, DEFAULT_VERSIONS, MINIMUM_VERSIONS } from './compat.js';
export type { ClusterVersions, CompatPlan, CompatInput, Release } from './compat.js';
export { readArtifactFacts, checkAdmission, signatureConsumers, sbomSummary } from './artifact-facts.js';
export type { ArtifactFacts, AdmissionCheck, ConsumerCheck, SignatureConsumer, SignatureForm } from './artifact-facts.js';
export { publishLayout, DEFAULT_GITOPS_AUTHOR } from './publish.js';
export type { PublishOptions, PublishResult } from './publish.js';
export { openPullRequest, githubRepositoryOf, DEFAULT_GITHUB_API_URL } from './pull-request.js';
export type { PullRequestInput, PullRequestResult } from './pull-request.js';
export { loadRegisterModelVersion } from './register-wiring.js';
export type { RegisterWiring } from './register-wiring.js';
export { loadClusterPolicy, rulesCovering, kyvernoImageMatches, policyControllerImageMatches, MOF_MINIMUM_ANNOTATION } from './cluster-policy.js';
export type { ClusterPolicySet, ClusterPolicyRule, ClusterSigner, ClusterSignerSet, ClusterController, LoadClusterPolicyOptions } from './cluster-policy.js';
export { evaluateClusterPolicy, assertClusterPolicy } from './cluster-policy-verdict.js';
export type { ClusterPolicyFacts, ClusterPolicyVerdict, ClusterRuleVerdict, ClusterPolicyCode } from './cluster-policy-verdict.js';
