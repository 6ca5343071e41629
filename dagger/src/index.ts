/**
 * modelship as Dagger functions: each one runs the modelship CLI inside a container built from this
 * repository, so `dagger call` does exactly what the laptop and CI do. npm's cache and the model
 * store are cache volumes; keys and tokens arrive as Secrets and never enter a layer.
 */
import { argument, Container, dag, Directory, func, object, Secret, Service } from '@dagger.io/dagger';

/** Node 20 on Debian bookworm: the Node line modelship supports, with apt for zstd and git. */
export const BASE_IMAGE = 'node:20-bookworm-slim';
/** Where the CLI is built inside the container, and how it is called. */
export const CLI_DIR = '/opt/modelship';
export const CLI = ['node', `${CLI_DIR}/bin/modelship.js`];
/** The project under /project, the store at MODELSHIP_HOME (a cache volume shared by calls). */
export const PROJECT_DIR = '/project';
export const MODELSHIP_HOME = '/var/lib/modelship';
export const SIGNING_KEY_PATH = '/run/secrets/modelship/signing.key';
export const DOCKER_CONFIG_PATH = '/root/.docker/config.json';
/** Left out of the build context: what npm ci and the build recreate, and what never belongs in it. */
export const SOURCE_IGNORE = ['node_modules', 'dist', '.git', '.quickstart', 'bench/.work', 'coverage', '.vitest-report.json', '**/*.log'];

/** The modelship command line for one step. */
export function cliArgs(...args: string[]): string[] {
  return [...CLI, ...args];
}

@object()
export class Modelship {
  /** This repository: the modelship sources the CLI is built from. */
  source: Directory;

  constructor(@argument({ defaultPath: '/', ignore: SOURCE_IGNORE }) source: Directory) {
    this.source = source;
  }

  /** The modelship CLI built from this repository, with the model store mounted. */
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
      .withMountedCache(MODELSHIP_HOME, dag.cacheVolume('modelship-store'))
      .withEnvVariable('MODELSHIP_HOME', MODELSHIP_HOME)
      .withEnvVariable('MODELSHIP_BUILDER', 'dagger')
      .withEnvVariable('CI', 'true');
  }

  /** The CLI with the project mounted and, when given, the signing key and registry login. */
  private withProject(project: Directory, key?: Secret, keyPassword?: Secret, dockerConfig?: Secret): Container {
    let c = this.cli().withMountedDirectory(PROJECT_DIR, project).withWorkdir(PROJECT_DIR);
    if (key) c = c.withMountedSecret(SIGNING_KEY_PATH, key).withEnvVariable('MODELSHIP_SIGNING_KEY', SIGNING_KEY_PATH);
    if (keyPassword) c = c.withSecretVariable('MODELSHIP_KEY_PASSWORD', keyPassword);
    else if (key) c = c.withEnvVariable('MODELSHIP_KEY_PASSWORD', '');
    if (dockerConfig) c = c.withMountedSecret(DOCKER_CONFIG_PATH, dockerConfig);
    return c;
  }

  /** Pack the project as a ModelPack artifact into the store (modelship pack). */
  @func()
  pack(project: Directory, tag: string): Container {
    return this.withProject(project).withExec(cliArgs('pack', PROJECT_DIR, '-t', tag));
  }

  /** CycloneDX 1.6 or SPDX 3.0.1 SBOM of a packed model, attached to it (modelship sbom --attach). */
  @func()
  sbom(project: Directory, tag: string, format = 'cyclonedx'): Container {
    return this.pack(project, tag).withExec(cliArgs('sbom', tag, '--format', format, '--attach', '-o', '/tmp/sbom.json'));
  }

  /** Model and data cards of a packed model, attached (modelship card --attach). */
  @func()
  card(project: Directory, tag: string): Container {
    return this.pack(project, tag).withExec(cliArgs('card', tag, '--attach'));
  }

  /** The MOF class, attached; fails below `require` (modelship mof --require N --attach). */
  @func()
  mof(project: Directory, tag: string, require = '3'): Container {
    return this.pack(project, tag).withExec(cliArgs('mof', tag, '--require', require, '--attach'));
  }

  /** Sign the packed model with a key (modelship sign --key). */
  @func()
  sign(project: Directory, tag: string, key: Secret, keyPassword?: Secret): Container {
    return this.withProject(project, key, keyPassword).withExec(cliArgs('pack', PROJECT_DIR, '-t', tag)).withExec(cliArgs('sign', tag, '--key', SIGNING_KEY_PATH));
  }

  /** Verify a model's signatures against a public key (modelship verify --key). */
  @func()
  verify(reference: string, publicKey: Secret, plainHttp = false): Container {
    return this.cli()
      .withMountedSecret('/run/secrets/modelship/signing.pub', publicKey)
      .withExec(cliArgs('verify', reference, '--key', '/run/secrets/modelship/signing.pub', ...(plainHttp ? ['--plain-http'] : [])));
  }

  /** Pack, document, gate, sign, verify and push to `reference` (HOST/REPO:TAG); `stdout` is the pipeline's JSON record. */
  @func()
  publish(project: Directory, reference: string, key?: Secret, keyPassword?: Secret, dockerConfig?: Secret, plainHttp = false): Container {
    return this.withProject(project, key, keyPassword, dockerConfig)
      .withExec(cliArgs('ship', PROJECT_DIR, '-t', reference, '--no-handoff', '--json', ...(plainHttp ? ['--plain-http'] : [])));
  }

  /** Hand a pushed model to the cluster: manifests committed to the GitOps repository (modelship handoff). */
  @func()
  handoff(reference: string, gitops: string, githubToken?: Secret, pullRequest = false, flavor = 'flux'): Container {
    let c = this.cli();
    if (githubToken) c = c.withSecretVariable('GITHUB_TOKEN', githubToken);
    return c.withExec(cliArgs('handoff', reference, '--gitops', gitops, '--flavor', flavor, ...(pullRequest ? ['--pr'] : []), '--json'));
  }

  /** The whole pipeline, as CI runs it: pack to hand-off (modelship ship); `stdout` is its JSON record. */
  @func()
  ci(project: Directory, reference: string, key?: Secret, keyPassword?: Secret, dockerConfig?: Secret, githubToken?: Secret, gitops = ''): Container {
    let c = this.withProject(project, key, keyPassword, dockerConfig);
    if (githubToken) c = c.withSecretVariable('GITHUB_TOKEN', githubToken);
    return c.withExec(cliArgs('ship', PROJECT_DIR, '-t', reference, ...(gitops ? ['--gitops', gitops] : ['--no-handoff']), '--json'));
  }

  /** An OpenAI-compatible endpoint on port 8080 serving the packed model; `gpu` passes every GPU through. */
  @func()
  serve(project: Directory, tag: string, gpu = false): Service {
    let c = this.pack(project, tag).withExposedPort(8080);
    if (gpu) c = c.experimentalWithAllGPUs();
    return c.asService({ args: cliArgs('serve', tag, '--host', '0.0.0.0', '--port', '8080', '--gpu', gpu ? 'auto' : 'none') });
  }
}
