/**
 * The one place the hand-off reaches the model registry module: its factory is loaded lazily so a
 * hand-off without a registry loads none of it.
 */
import { describeError, ModelshipError } from '../errors/index.js';
import type { RegisterModelVersion } from '../registry/contract.js';

export interface RegisterWiring {
  /** A Kubeflow Model Registry base URL; absent: the embedded registry under `home`. */
  url?: string;
  token?: string;
  /** modelship's home folder, where the embedded registry keeps its database. */
  home: string;
}

interface RegistryModule {
  createRegisterModelVersion(options: { url?: string; token?: string; home: string }): RegisterModelVersion;
}

// Held in a variable until modules/registry/index.ts exists in this tree; then: await import('../registry/index.js').
const REGISTRY_MODULE = '../registry/index.js';

export async function loadRegisterModelVersion(wiring: RegisterWiring): Promise<RegisterModelVersion> {
  let registry: RegistryModule;
  try {
    registry = (await import(REGISTRY_MODULE)) as RegistryModule;
  } catch (err) {
    throw new ModelshipError('GITOPS_REGISTER_UNAVAILABLE', `the model registry client is not part of this modelship build (${describeError(err)}); hand off with --no-register`, { cause: err });
  }
  return registry.createRegisterModelVersion({ ...(wiring.url ? { url: wiring.url } : {}), ...(wiring.token ? { token: wiring.token } : {}), home: wiring.home });
}
