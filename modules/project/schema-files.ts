/**
 * JSON Schemas shipped with modelship under schemas/ at the package root, so users validate
 * offline and editors complete modelship.yaml.
 */
import { modelshipVersion, packagePath } from '../fs/package.js';

/** Absolute path of schemas/<name>, from the sources or the build. */
export function schemaFilePath(name: string): string {
  return packagePath('schemas', name);
}

/**
 * Where editors find schemas/<name> on every machine: the copy published with this version of the
 * package (as changesets does), never a path into one machine's installation.
 */
export function publishedSchemaUrl(name: string): string {
  return `https://unpkg.com/modelship@${modelshipVersion()}/schemas/${name}`;
}
