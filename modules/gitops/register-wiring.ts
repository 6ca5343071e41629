/**
 * The one place the hand-off reaches the model registry module: its factory is loaded lazily so a
 * hand-off without a registry loads none of it.
 */
import type { RegisterModelVersion } from '../registry/contract.js';

export interface RegisterWiring {
  /** A Kubeflow Model Registry base URL; absent: the embedded registry under `home`. */
  url?: string;
  token?: string;
  /** modelship's home folder, where the embedded registry keeps its database. */
  home: string;
}

export async function loadRegisterModelVersion(wiring: RegisterWiring): Promise<RegisterModelVersion> {
  const registry = await import('../registry/index.js');
  return registry.createRegisterModelVersion({ ...(wiring.url ? { url: wiring.url } : {}), ...(wiring.token ? { token: wiring.token } : {}), home: wiring.home });
}
