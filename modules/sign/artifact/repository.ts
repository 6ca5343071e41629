/**
 * The repository name signatures over a manifest carry (cosign statement subjects, Notation trust
 * policy scopes): HOST/REPO for a registry or a store reference; a layout names none.
 */
import type { OpenedReference, RemoteReference } from '../../oci/index.js';

export function artifactRepository(opened: OpenedReference): string | undefined {
  if (opened.kind === 'layout') return undefined;
  if (opened.kind === 'store') return opened.display.replace(/@.*$/, '').replace(/:[^:/]*$/, '');
  const ref = opened.reference as RemoteReference;
  return `${ref.registry}/${ref.repository}`;
}
