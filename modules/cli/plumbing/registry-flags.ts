/** Flags every command that opens a registry reference accepts (kept apart so they load without the OCI client). */
import type { OptionSpec } from '../command.js';

export const REGISTRY_OPTIONS = {
  'plain-http': { type: 'boolean' },
  'ca-file': { type: 'string' },
} satisfies OptionSpec;
