/** Where the generated validator module is written. */
export const GENERATED_PATH: string;
/** The generated validator module's text, compiled now from the schema with the installed ajv. */
export function configValidatorSource(): string;
