/**
 * What a manifest declares and what a lock file resolves, before they become SBOM dependencies.
 */
import type { DependencyEcosystem } from '../input.js';

export interface DeclaredDependency {
  ecosystem: DependencyEcosystem;
  name: string;
  /** The declared constraint, e.g. `>=2,<3` or `^1.4.0`. */
  range: string;
  /** Exact version when the declaration pins one. */
  version?: string;
  scope: 'required' | 'optional';
  /** File (and line) it came from, relative to the project. */
  source: string;
  sha256?: string[];
}

export interface LockedPackage {
  ecosystem: DependencyEcosystem;
  name: string;
  version: string;
  /** Lock files that mark dev/optional packages say so here. */
  optional: boolean;
  source: string;
  hashes?: { alg: 'SHA-256' | 'SHA-512'; hex: string }[];
  /** Names of the packages it depends on. */
  dependsOn: string[];
}
