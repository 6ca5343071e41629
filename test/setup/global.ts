/**
 * Vitest global setup: one anonymous docker-registry on loopback shared by the suite.
 * Tests that need auth, TLS or a fault proxy start their own with test/helpers/registry.ts.
 */
import type { TestProject } from 'vitest/node';
import { startRegistry } from '../helpers/registry.js';

declare module 'vitest' {
  export interface ProvidedContext {
    registry: string;
  }
}

export default async function setup(project: TestProject) {
  const registry = await startRegistry();
  project.provide('registry', registry.host);
  return async () => {
    await registry.stop();
  };
}
