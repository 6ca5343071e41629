/**
 * What we learn about one registry and share across its repositories: the HTTP client (with its
 * token cache) and whether it takes chunked uploads. Registries are keyed by host[:port].
 */
import { RegistryClient, type ClientOptions } from './client.js';

export class RegistrySession {
  /** Set once the registry refused a PATCH: later blobs go up monolithic. */
  chunkedRejected = false;

  constructor(readonly client: RegistryClient) {}
}

/** A pool of sessions, so that targets opened with the same options share tokens and upload choices. */
export class RegistrySessions {
  private readonly byRegistry = new Map<string, RegistrySession>();

  get(registry: string, options: ClientOptions): RegistrySession {
    const key = `${options.plainHttp ? 'http' : 'https'}://${registry}`;
    let session = this.byRegistry.get(key);
    if (!session) {
      session = new RegistrySession(new RegistryClient(registry, options));
      this.byRegistry.set(key, session);
    }
    return session;
  }

  close(): void {
    for (const session of this.byRegistry.values()) session.client.close();
    this.byRegistry.clear();
  }
}
