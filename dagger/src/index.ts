/**
 * modelship as Dagger functions: each one runs the modelship CLI inside a container built from this
 * repository, so `dagger call` does exactly what the laptop and CI do. Every command line comes from
 * the CLI's own typed builder (a flag the CLI lacks does not compile). Each call has its own model
 * store, inside its container, and returns what it made (the signed OCI layout, the pipeline record);
 * only npm's download cache is shared. Keys and tokens arrive as Secrets and never enter a layer.
 */
import { argument, Container, dag, Directory, File, func, object, Secret, Service } from '@dagger.io/dagger';
import { commandLine, type DoorCommand, type FlagsOf } from '../../modules/cli/argv.js';

/** Node 20 on Debian bookworm: the Node line modelship supports, with apt for zstd and git. */
export const BASE_IMAGE = 'node:20-bookworm-slim';
/** Where the CLI is built inside the container, and how it is called. */
export const CLI_DIR = '/opt/modelship';
export const CLI = ['node', `${CLI_DIR}/bin/modelship.js`];
/** The project under /project; the store at MODELSHIP_HOME, a folder of this call's container (no cache volume). */
export const PROJECT_DIR = '/project';
export const MODELSHIP_HOME = '/var/lib/modelship';
/** The local store: an OCI image layout (oci-layout, index.json, blobs/), as skopeo and oras read it. */
export const STORE_LAYOUT = `${MODELSHIP_HOME}/store`;
export const RECORD_PATH = '/tmp/modelship-record.json';
export const SIGNING_KEY_PATH = '/run/secrets/modelship/signing.key';
export const PUBLIC_KEY_PATH = '/run/secrets/modelship/signing.pub';
export const TRUSTED_ROOT_PATH = '/run/secrets/modelship/trusted_root.json';
export const DOCKER_CONFIG_PATH = '/root/.docker/config.json';
/** The cluster's admission policy for --policy: a GitOps repository's clone (a folder), or one policy file. */
export const POLICY_DIR = '/run/modelship/policy';
export const POLICY_FILE_PATH = '/run/modelship/policy.yaml';
/** What `trace` reads: an InferenceService file, and the JSON it returns. */
export const TRACE_INPUT_PATH = '/run/modelship/inferenceservice.yaml';
export const TRACE_RECORD_PATH = '/tmp/modelship-trace.json';
/** The variable the CLI reads the model registry's bearer token from (modules/cli/plumbing/model-registry.ts). */
export const MODEL_REGISTRY_TOKEN_ENV = 'MODEL_REGISTRY_TOKEN';
/**
 * Where a ModelCar base given as a Directory (an OCI image layout, as `skopeo copy
 * docker://busybox:1.37 oci:./busybox:latest` writes it) is mounted; its tag `latest` is the base.
 */
export const MODELCAR_BASE_LAYOUT = '/opt/modelcar-base';
/** Left out of the build context: what npm ci and the build recreate, and what never belongs in it. */
export const SOURCE_IGNORE = ['node_modules', 'dist', '.git', '.quickstart', 'bench/.work', 'coverage', '.vitest-report.json', '**/*.log'];

/** The modelship command line for one command, built from the CLI's own option definitions. */
export function cliArgs<N extends DoorCommand>(name: N, positionals: readonly string[], flags?: FlagsOf<N>): string[] {
  return [...CLI, ...commandLine(name, positionals, flags)];
}

/** How a call signs: a key (and its password only when given), or keylessly with an OIDC token. */
interface Signer {
  key?: Secret | undefined;
  keyPassword?: Secret | undefined;
  /** An OIDC token for Sigstore (SIGSTORE_ID_TOKEN). */
  oidcToken?: Secret | undefined;
  /** GitHub Actions' token endpoint, so the CLI asks for a fresh token when it signs. */
  actionsIdTokenRequestUrl?: string | undefined;
  actionsIdTokenRequestToken?: Secret | undefined;
}

/** The cluster's admission policy a call judges the registry copy by (modelship --policy), when given. */
interface ClusterPolicy {
  /** A clone of the GitOps repository the hand-off writes to (its policy/<env>/ folders), or a folder of policy files. */
  policy?: Directory | undefined;
  /** One Kyverno ClusterPolicy or policy-controller ClusterImagePolicy file. */
  policyFile?: File | undefined;
  /** The environment whose policy applies (--env). */
  policyEnv?: string | undefined;
  /** Sigstore trusted_root.json for a keyless policy (--trusted-root). */
  trustedRoot?: File | undefined;
}

/** The --policy, --env and --trusted-root flags for a policy mounted by `withPolicy`. */
type PolicyFlags = { policy?: string; env?: string; 'trusted-root'?: string };

/** What a pipeline call made: its container, the pipeline's JSON record, and this call's store. */
@object()
export class PipelineRun {
  /** The container the pipeline ran in (its stdout is the record too). */
  @func()
  container: Container;

  /** The pipeline's JSON record: each step, its time and result, the digest. */
  @func()
  record: File;

  /** This call's store: an OCI image layout holding the artifact and its referrers (signatures, SBOMs, cards). */
  @func()
  layout: Directory;

  constructor(container: Container) {
    this.container = container;
    this.record = container.file(RECORD_PATH);
    this.layout = container.directory(STORE_LAYOUT);
  }
}

@object()
export class Modelship {
  /** This repository: the modelship sources the CLI is built from. */
  source: Directory;

  constructor(@argument({ defaultPath: '/', ignore: SOURCE_IGNORE }) source: Directory) {
    this.source = source;
  }

  /** The modelship CLI built from this repository, with an empty store of its own. */
  @func()
  cli(): Container {
    return dag
      .container()
      .from(BASE_IMAGE)
      .withExec(['sh', '-c', 'apt-get update -qq && apt-get install -y -qq --no-install-recommends git zstd ca-certificates >/dev/null && rm -rf /var/lib/apt/lists/*'])
      .withMountedCache('/root/.npm', dag.cacheVolume('modelship-npm'))
      .withDirectory(CLI_DIR, this.source)
      .withWorkdir(CLI_DIR)
      .withExec(['npm', 'ci', '--no-audit', '--no-fund'])
      .withExec(['npm', 'run', 'build'])
      .withEnvVariable('MODELSHIP_HOME', MODELSHIP_HOME)
      .withEnvVariable('MODELSHIP_BUILDER', 'dagger')
      .withEnvVariable('CI', 'true');
  }

  /** The CLI with the project mounted, the signer's secrets and the registry login, when given. */
  private withProject(project: Directory, signer: Signer = {}, dockerConfig?: Secret): Container {
    let c = this.cli().withMountedDirectory(PROJECT_DIR, project).withWorkdir(PROJECT_DIR);
    if (signer.key) c = c.withMountedSecret(SIGNING_KEY_PATH, signer.key);
    // Only a password the caller gave: an encrypted key without one fails with the right hint.
    if (signer.keyPassword) c = c.withSecretVariable('MODELSHIP_KEY_PASSWORD', signer.keyPassword);
    if (signer.oidcToken) c = c.withSecretVariable('SIGSTORE_ID_TOKEN', signer.oidcToken);
    if (signer.actionsIdTokenRequestUrl && signer.actionsIdTokenRequestToken) {
      c = c.withEnvVariable('ACTIONS_ID_TOKEN_REQUEST_URL', signer.actionsIdTokenRequestUrl).withSecretVariable('ACTIONS_ID_TOKEN_REQUEST_TOKEN', signer.actionsIdTokenRequestToken);
    }
    if (dockerConfig) c = c.withMountedSecret(DOCKER_CONFIG_PATH, dockerConfig);
    return c;
  }

  /**
   * The container with the admission policy and its trusted root mounted, and the flags naming them.
   * One --policy only: a folder and a file together are refused, never one of them silently dropped.
   */
  private withPolicy(c: Container, p: ClusterPolicy): { container: Container; flags: PolicyFlags } {
    if (p.policy && p.policyFile) throw new Error('give the admission policy once: policy (a GitOps repository folder) or policyFile (one policy file), not both');
    const flags: PolicyFlags = {};
    if (p.policy) {
      c = c.withMountedDirectory(POLICY_DIR, p.policy);
      flags.policy = POLICY_DIR;
    }
    if (p.policyFile) {
      c = c.withMountedFile(POLICY_FILE_PATH, p.policyFile);
      flags.policy = POLICY_FILE_PATH;
    }
    // Passed as given: the CLI refuses --env without --policy, rather than this door guessing.
    if (p.policyEnv) flags.env = p.policyEnv;
    if (p.trustedRoot) {
      c = c.withMountedFile(TRUSTED_ROOT_PATH, p.trustedRoot);
      flags['trusted-root'] = TRUSTED_ROOT_PATH;
    }
    return { container: c, flags };
  }

  /** The signing flags for `ship`: --key, --keyless with a token, or --no-sign when asked; else ship refuses to push. */
  private signingFlags(signer: Signer, keyless: boolean, unsigned: boolean): FlagsOf<'ship'> {
    if (unsigned) return { 'no-sign': true };
    if (signer.key) return { key: SIGNING_KEY_PATH };
    if (keyless || signer.oidcToken || signer.actionsIdTokenRequestToken) return { keyless: true };
    return {};
  }

  /**
   * The ModelCar flags for `ship`: the hand-off needs the runnable ModelCar image KServe starts, so
   * every pipeline that pushes packs one. Its base: `modelcarBase` (a reference the container can
   * reach, such as a mirror HOST/library/busybox:1.37, or an `oci:` layout path in the container),
   * else the layout given as a Directory (its tag `latest`), else the CLI's default (Docker Hub's busybox).
   */
  private modelcarFlags(modelcarBase: string, modelcarBaseLayout?: Directory): FlagsOf<'ship'> {
    const base = modelcarBase || (modelcarBaseLayout ? `oci:${MODELCAR_BASE_LAYOUT}:latest` : '');
    return { modelcar: true, ...(base ? { 'modelcar-base': base } : {}) };
  }

  /** The container with the ModelCar base layout mounted, when one is given. */
  private withModelcarBase(c: Container, modelcarBaseLayout?: Directory): Container {
    return modelcarBaseLayout ? c.withMountedDirectory(MODELCAR_BASE_LAYOUT, modelcarBaseLayout) : c;
  }

  /** Pack the project as a ModelPack artifact into the store (modelship pack). */
  @func()
  pack(project: Directory, tag: string): Container {
    return this.withProject(project).withExec(cliArgs('pack', [PROJECT_DIR], { tag: [tag] }));
  }

  /** CycloneDX 1.6 or SPDX 3.0.1 SBOM of a packed model, attached to it (modelship sbom --attach). */
  @func()
  sbom(project: Directory, tag: string, format = 'cyclonedx'): Container {
    return this.pack(project, tag).withExec(cliArgs('sbom', [tag], { format, attach: true, output: '/tmp/sbom.json' }));
  }

  /** Model and data cards of a packed model, attached (modelship card --attach). */
  @func()
  card(project: Directory, tag: string): Container {
    return this.pack(project, tag).withExec(cliArgs('card', [tag], { attach: true }));
  }

  /** The MOF class, attached; fails below `require` (modelship mof --require N --attach). */
  @func()
  mof(project: Directory, tag: string, require = '3'): Container {
    return this.pack(project, tag).withExec(cliArgs('mof', [tag], { require, attach: true }));
  }

  /** Sign the packed model with a key (modelship sign --key); the store holds the signed layout. */
  @func()
  sign(project: Directory, tag: string, key: Secret, keyPassword?: Secret): Container {
    return this.withProject(project, { key, keyPassword })
      .withExec(cliArgs('pack', [PROJECT_DIR], { tag: [tag] }))
      .withExec(cliArgs('sign', [tag], { key: SIGNING_KEY_PATH }));
  }

  /** Verify a model's signatures against a public key (modelship verify --key). */
  @func()
  verify(reference: string, publicKey: File, plainHttp = false, dockerConfig?: Secret): Container {
    let c = this.cli().withMountedFile(PUBLIC_KEY_PATH, publicKey);
    if (dockerConfig) c = c.withMountedSecret(DOCKER_CONFIG_PATH, dockerConfig);
    return c.withExec(cliArgs('verify', [reference], { key: PUBLIC_KEY_PATH, 'plain-http': plainHttp }));
  }

  /**
   * Pack, document, gate, sign, verify and push to `reference` (HOST/REPO:TAG). It signs with `key`,
   * or keylessly with an OIDC token; with neither (and no `unsigned`), it refuses before pushing.
   * It packs the ModelCar too (on `modelcarBase`, or the layout `modelcarBaseLayout`), so what it
   * pushes is what `handoff` can hand to KServe. With `policy` (a clone of the GitOps repository)
   * or `policyFile` (`policyEnv` picks the environment, `trustedRoot` for keyless signers), verify
   * judges the signed copy as the cluster's admission policy will, and a refusal stops before push.
   */
  @func()
  publish(
    project: Directory,
    reference: string,
    key?: Secret,
    keyPassword?: Secret,
    dockerConfig?: Secret,
    plainHttp = false,
    keyless = false,
    oidcToken?: Secret,
    actionsIdTokenRequestUrl = '',
    actionsIdTokenRequestToken?: Secret,
    require = '',
    unsigned = false,
    modelcarBase = '',
    modelcarBaseLayout?: Directory,
    policy?: Directory,
    policyFile?: File,
    policyEnv = '',
    trustedRoot?: File,
  ): PipelineRun {
    const signer: Signer = { key, keyPassword, oidcToken, actionsIdTokenRequestUrl, actionsIdTokenRequestToken };
    const gated = this.withPolicy(this.withModelcarBase(this.withProject(project, signer, dockerConfig), modelcarBaseLayout), { policy, policyFile, policyEnv, trustedRoot });
    const flags: FlagsOf<'ship'> = {
      tag: reference,
      'no-handoff': true,
      json: true,
      'plain-http': plainHttp,
      ...this.signingFlags(signer, keyless, unsigned),
      ...(require ? { require } : {}),
      ...this.modelcarFlags(modelcarBase, modelcarBaseLayout),
      ...gated.flags,
    };
    return new PipelineRun(gated.container.withExec(cliArgs('ship', [PROJECT_DIR], flags), { redirectStdout: RECORD_PATH }));
  }

  /**
   * Hand a pushed model to the cluster: manifests committed to the GitOps repository (modelship
   * handoff). The signer the admission policy trusts: `publicKey`, or `certIdentity` with
   * `certOidcIssuer` and `trustedRoot`.
   */
  @func()
  handoff(
    reference: string,
    gitops: string,
    publicKey?: File,
    certIdentity = '',
    certOidcIssuer = '',
    trustedRoot?: File,
    githubToken?: Secret,
    pullRequest = false,
    argocd = false,
    clusterUrl = '',
    mount = '',
    environment = '',
    plainHttp = false,
    dockerConfig?: Secret,
  ): PipelineRun {
    let c = this.cli();
    if (githubToken) c = c.withSecretVariable('GITHUB_TOKEN', githubToken);
    if (dockerConfig) c = c.withMountedSecret(DOCKER_CONFIG_PATH, dockerConfig);
    if (publicKey) c = c.withMountedFile(PUBLIC_KEY_PATH, publicKey);
    if (trustedRoot) c = c.withMountedFile(TRUSTED_ROOT_PATH, trustedRoot);
    const flags: FlagsOf<'handoff'> = {
      gitops,
      ...(publicKey ? { key: PUBLIC_KEY_PATH } : {}),
      ...(certIdentity ? { 'cert-identity': certIdentity } : {}),
      ...(certOidcIssuer ? { 'cert-oidc-issuer': certOidcIssuer } : {}),
      ...(trustedRoot ? { 'trusted-root': TRUSTED_ROOT_PATH } : {}),
      argocd,
      pr: pullRequest,
      ...(clusterUrl ? { 'cluster-url': clusterUrl } : {}),
      ...(mount ? { mount } : {}),
      ...(environment ? { env: environment } : {}),
      'plain-http': plainHttp,
      json: true,
    };
    return new PipelineRun(c.withExec(cliArgs('handoff', [reference], flags), { redirectStdout: RECORD_PATH }));
  }

  /**
   * The whole pipeline, as CI runs it: pack to hand-off (modelship ship), with the options the other
   * doors have. It signs with `key` or keylessly (an OIDC token, or GitHub's token endpoint); with
   * neither (and no `unsigned`), it refuses before pushing. It packs the ModelCar the hand-off
   * needs, on `modelcarBase` or the layout `modelcarBaseLayout` (else Docker Hub's busybox). With
   * `policy` (a clone of the GitOps repository) or `policyFile` (`policyEnv`, `trustedRoot` as for
   * `publish`), the signed copy is judged as the cluster's admission policy will before it is pushed.
   */
  @func()
  ci(
    project: Directory,
    reference: string,
    key?: Secret,
    keyPassword?: Secret,
    dockerConfig?: Secret,
    githubToken?: Secret,
    gitops = '',
    pullRequest = false,
    flavor = '',
    clusterUrl = '',
    require = '',
    plainHttp = false,
    keyless = false,
    oidcToken?: Secret,
    actionsIdTokenRequestUrl = '',
    actionsIdTokenRequestToken?: Secret,
    unsigned = false,
    modelcarBase = '',
    modelcarBaseLayout?: Directory,
    policy?: Directory,
    policyFile?: File,
    policyEnv = '',
    trustedRoot?: File,
  ): PipelineRun {
    const signer: Signer = { key, keyPassword, oidcToken, actionsIdTokenRequestUrl, actionsIdTokenRequestToken };
    const gated = this.withPolicy(this.withModelcarBase(this.withProject(project, signer, dockerConfig), modelcarBaseLayout), { policy, policyFile, policyEnv, trustedRoot });
    let c = gated.container;
    if (githubToken) c = c.withSecretVariable('GITHUB_TOKEN', githubToken);
    const flags: FlagsOf<'ship'> = {
      tag: reference,
      ...(gitops ? { gitops, pr: pullRequest, ...(flavor ? { flavor } : {}), ...(clusterUrl ? { 'cluster-url': clusterUrl } : {}) } : { 'no-handoff': true }),
      ...(require ? { require } : {}),
      'plain-http': plainHttp,
      ...this.signingFlags(signer, keyless, unsigned),
      ...this.modelcarFlags(modelcarBase, modelcarBaseLayout),
      ...gated.flags,
      json: true,
    };
    return new PipelineRun(c.withExec(cliArgs('ship', [PROJECT_DIR], flags), { redirectStdout: RECORD_PATH }));
  }

  /**
   * An OpenAI-compatible endpoint on port 8080 serving the packed model; `gpu` passes every GPU
   * through. With `policy` (a clone of the GitOps repository) or `policyFile` (`policyEnv`,
   * `trustedRoot` as for `publish`), `tag` is the registry reference the policy checks: nothing is
   * packed, and what is served is the registry's copy the cluster's admission policy admits, by digest.
   */
  @func()
  serve(
    project: Directory,
    tag: string,
    gpu = false,
    policy?: Directory,
    policyFile?: File,
    policyEnv = '',
    trustedRoot?: File,
    plainHttp = false,
    dockerConfig?: Secret,
  ): Service {
    const gated = policy || policyFile;
    const base = gated ? this.withProject(project, {}, dockerConfig) : this.pack(project, tag);
    const { container, flags } = this.withPolicy(base, { policy, policyFile, policyEnv, trustedRoot });
    let c = container.withExposedPort(8080);
    if (gpu) c = c.experimentalWithAllGPUs();
    return c.asService({ args: cliArgs('serve', [tag], { host: '0.0.0.0', port: '8080', gpu: gpu ? 'auto' : 'none', 'plain-http': plainHttp, ...flags }) });
  }

  /**
   * Trace a model the cluster runs back to its registry record, signatures, SBOM, MOF class and
   * source (modelship trace --json), from `storageUri` (oci://HOST/REPO@sha256:…, as the
   * InferenceService names it) or `inferenceService` (the hand-off's inferenceservice-pin.yaml, or a
   * "kubectl get inferenceservice -o yaml" dump; `name` picks one of several). Whom to trust: the
   * cluster's admission policy (`policy`, a clone of the GitOps repository, or `policyFile`;
   * `policyEnv` picks the environment; `trustedRoot` for keyless signers), or a signer (`publicKey`,
   * or `certIdentity` with `certOidcIssuer` and `trustedRoot`); with neither the trace is incomplete.
   * The model registry: `registryUrl`, its token `registryToken`. Returns the trace as JSON; a broken
   * link fails the call with the exit status of the first one and its reason.
   */
  @func()
  trace(
    storageUri = '',
    inferenceService?: File,
    name = '',
    policy?: Directory,
    policyFile?: File,
    policyEnv = '',
    publicKey?: File,
    certIdentity = '',
    certOidcIssuer = '',
    trustedRoot?: File,
    registryUrl = '',
    registryToken?: Secret,
    require = '',
    plainHttp = false,
    dockerConfig?: Secret,
  ): File {
    if (Boolean(storageUri) === Boolean(inferenceService)) throw new Error('trace one model: give storageUri (oci://HOST/REPO@sha256:…) or inferenceService (a file), one of them');
    let c = this.cli();
    if (inferenceService) c = c.withMountedFile(TRACE_INPUT_PATH, inferenceService);
    if (publicKey) c = c.withMountedFile(PUBLIC_KEY_PATH, publicKey);
    if (registryToken) c = c.withSecretVariable(MODEL_REGISTRY_TOKEN_ENV, registryToken);
    if (dockerConfig) c = c.withMountedSecret(DOCKER_CONFIG_PATH, dockerConfig);
    const gated = this.withPolicy(c, { policy, policyFile, policyEnv, trustedRoot });
    const flags: FlagsOf<'trace'> = {
      ...(name ? { name } : {}),
      ...gated.flags,
      ...(publicKey ? { key: PUBLIC_KEY_PATH } : {}),
      ...(certIdentity ? { 'cert-identity': certIdentity } : {}),
      ...(certOidcIssuer ? { 'cert-oidc-issuer': certOidcIssuer } : {}),
      ...(registryUrl ? { 'registry-url': registryUrl } : {}),
      ...(require ? { require } : {}),
      'plain-http': plainHttp,
      json: true,
    };
    return gated.container.withExec(cliArgs('trace', [inferenceService ? TRACE_INPUT_PATH : storageUri], flags), { redirectStdout: TRACE_RECORD_PATH }).file(TRACE_RECORD_PATH);
  }
}
