/**
 * `modelship register REF`: record a pushed model in a Kubeflow Model Registry (or the embedded one),
 * pinned by digest, with its format, signer, SBOM and MOF class.
 */
import { ModelshipError, UsageError } from '../../errors/index.js';
import { openReference, parseRemoteReference, type OpenedReference } from '../../oci/index.js';
import { createRegisterModelVersion, registerInputOfArtifact, type RegisterResult } from '../../registry/index.js';
import { modelshipHome, openStore, remoteOf } from '../../store/index.js';
import { flagString, type Command } from '../command.js';
import { MODEL_REGISTRY_OPTIONS, REGISTRY_TOKEN_ENV, REGISTRY_URL_ENV, modelRegistryToken, modelRegistryUrl } from '../plumbing/model-registry.js';
import { requireArgs } from '../plumbing/arguments.js';
import { REGISTRY_OPTIONS } from '../plumbing/registry-flags.js';
import { openContextOf, REFERENCE_FORMS_HELP } from '../plumbing/references.js';

function summary(result: RegisterResult, name: string, version: string, uri: string): string {
  const state = (created: boolean) => (created ? 'created' : 'already there');
  return [
    `registered ${name} ${version} in ${result.registry}`,
    `  registered model  ${result.registeredModelId.padEnd(10)} ${state(result.created.registeredModel)}`,
    `  model version     ${result.modelVersionId.padEnd(10)} ${state(result.created.modelVersion)}`,
    `  model artifact    ${result.modelArtifactId.padEnd(10)} ${result.created.modelArtifact ? 'created' : 'up to date'}`,
    `  uri               ${uri}`,
  ].join('\n');
}

const USAGE = 'register REF [--registry-url URL] [--token-env NAME] [--name NAME] [--version VERSION] [--plain-http] [--ca-file F]';

export const command: Command = {
  name: 'register',
  summary: 'Record a pushed model in a Kubeflow Model Registry (or the embedded one), pinned by digest',
  usage: USAGE,
  help: `Resolves REF to its digest and records it in a Kubeflow Model Registry (REST v1alpha3): the
registered model (named after the repository's last path component, or --name), a version (the tag,
or --version; the short digest when REF has no tag) and its model artifact with
uri oci://HOST/REPO@sha256:<digest> and the format from the ModelPack config. Custom properties
record the digest, the signer (from a signature referrer: the certificate identity or key hint,
as the bundle states it; run "modelship verify" to check it), the attached SBOM's digest and the
MOF class from the attached MOF report.

Registering is idempotent: a second run finds everything and creates nothing, with the same ids.
REF must name a registry (push first): the URI is what the cluster pulls.

Which registry: --registry-url, else $${REGISTRY_URL_ENV}, else pipeline.modelRegistry.url in
./modelship.yaml; with none, the embedded registry under $MODELSHIP_HOME/model-registry (see
"modelship registry serve"). The token comes from the variable --token-env names, else
$${REGISTRY_TOKEN_ENV}, and is sent as "Authorization: Bearer".

--json prints {registeredModelId, modelVersionId, modelArtifactId, created, registry, input}.

${REFERENCE_FORMS_HELP}

Examples:
  modelship register ghcr.io/acme/tiny-chat:v1
  modelship register ghcr.io/acme/tiny-chat:v1 --registry-url https://model-registry.example.com --token-env MR_TOKEN
  MODELSHIP_MODEL_REGISTRY_URL=http://127.0.0.1:8080 modelship register 127.0.0.1:5000/team/tiny-chat:v1 --plain-http --json`,
  options: { ...MODEL_REGISTRY_OPTIONS, name: { type: 'string' }, version: { type: 'string' }, ...REGISTRY_OPTIONS },
  async run(ctx) {
    const [input] = requireArgs(ctx, ['REF'], USAGE);
    const name = flagString(ctx, 'name');
    const version = flagString(ctx, 'version');
    if (name === '' || version === '') throw new UsageError('--name and --version need a value');
    const url = await modelRegistryUrl(ctx);
    const token = modelRegistryToken(ctx);
    const opened = await openReference(input!, openContextOf(ctx, openStore(ctx.env, ctx.cwd)));
    const subject = await opened.target.resolve(opened.selector);
    const reference = registryReferenceOf(opened, input!);
    const registerInput = await registerInputOfArtifact({ target: opened.target, subject, reference, ...(name ? { name } : {}), ...(version ? { version } : {}) });
    const register = createRegisterModelVersion({ ...(url ? { url } : {}), ...(token ? { token } : {}), home: modelshipHome(ctx.env, ctx.cwd) });
    const result = await register(registerInput);
    return { json: { ...result, input: registerInput }, text: summary(result, registerInput.name, registerInput.version, registerInput.uri) };
  },
};

/** The registry reference REF names, whether read from the registry or from the store's copy of it. */
function registryReferenceOf(opened: OpenedReference, input: string) {
  const pinnable = opened.kind === 'remote' || (opened.kind === 'store' && remoteOf(opened.display) !== undefined);
  if (!pinnable || opened.reference.kind !== 'remote') {
    throw new ModelshipError(
      'REGISTER_NOT_PINNABLE',
      `${input} is not in a registry, so the cluster could not pull it; push it first ("modelship push ${input} HOST/REPO:TAG") and register that reference`,
    );
  }
  return opened.kind === 'store' ? parseRemoteReference(opened.display) : opened.reference;
}
