/** Every served version's openAPIV3Schema in a CRD file, keyed by the schemas/crds path it is written to. */
export function crdSchemas(text: string): Record<string, unknown>;
