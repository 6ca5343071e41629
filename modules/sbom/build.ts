/**
 * One call for either format: build the document and refuse to hand out one that fails its own schema.
 */
import { ModelshipError } from '../errors/index.js';
import type { SbomFormat } from './attach.js';
import { buildCycloneDx } from './cyclonedx.js';
import { validateCycloneDx } from './cyclonedx-read.js';
import type { SbomInput } from './input.js';
import { buildSpdx } from './spdx.js';
import { validateSpdx } from './spdx-validate.js';

export interface SbomDocument {
  format: SbomFormat;
  document: Record<string, unknown>;
}

export function buildSbom(input: SbomInput, format: SbomFormat): SbomDocument {
  const document = format === 'cyclonedx' ? buildCycloneDx(input) : buildSpdx(input);
  const errors = format === 'cyclonedx' ? validateCycloneDx(document) : validateSpdx(document);
  if (errors.length) {
    throw new ModelshipError(
      'SBOM_INVALID',
      `the ${format} document built for ${input.artifact?.reference ?? 'this model'} does not validate:\n${errors.slice(0, 10).map((e) => `  ${e.path}: ${e.message}`).join('\n')}\nPlease report this with the project's spec file.`,
      { details: { errors } },
    );
  }
  return { format, document };
}
