/**
 * Registry failures as coded errors: the distribution-spec error body `{errors:[{code,message,detail}]}`
 * plus method, URL (never with credentials) and status, as oras-go's errcode.ErrorResponse.
 */
import { ModelshipError } from '../../errors/index.js';

export interface SpecError {
  code: string;
  message?: string;
  detail?: unknown;
}

/** Distribution-spec codes (spec.md "Error Codes") to our codes; anything else falls back to the status. */
const CODE_BY_SPEC_CODE: Record<string, string> = {
  BLOB_UNKNOWN: 'OCI_NOT_FOUND',
  MANIFEST_UNKNOWN: 'OCI_NOT_FOUND',
  NAME_UNKNOWN: 'OCI_NOT_FOUND',
  BLOB_UPLOAD_UNKNOWN: 'OCI_NOT_FOUND',
  DIGEST_INVALID: 'OCI_DIGEST_MISMATCH',
  SIZE_INVALID: 'OCI_SIZE_MISMATCH',
  MANIFEST_INVALID: 'OCI_INVALID_MANIFEST',
  MANIFEST_BLOB_UNKNOWN: 'OCI_INVALID_MANIFEST',
  NAME_INVALID: 'OCI_INVALID_REFERENCE',
  TAG_INVALID: 'OCI_INVALID_REFERENCE',
  UNAUTHORIZED: 'OCI_UNAUTHORIZED',
  DENIED: 'OCI_DENIED',
  UNSUPPORTED: 'OCI_UNSUPPORTED',
  TOOMANYREQUESTS: 'OCI_REGISTRY',
};

function codeForStatus(status: number): string {
  if (status === 401) return 'OCI_UNAUTHORIZED';
  if (status === 403) return 'OCI_DENIED';
  if (status === 404) return 'OCI_NOT_FOUND';
  if (status === 405) return 'OCI_UNSUPPORTED';
  return 'OCI_REGISTRY';
}

const ADVICE: Record<string, string> = {
  OCI_UNAUTHORIZED: 'log in with "modelship login REGISTRY" or check the stored credentials',
  OCI_DENIED: 'the credentials lack access to this repository; check the account\'s permissions',
  OCI_NOT_FOUND: 'check the repository, tag or digest',
  OCI_REGISTRY: 'the registry failed; try again later',
};

/** A URL safe to print: no user info, and upload state and tokens in the query elided. */
export function redactUrl(url: URL | string): string {
  const u = new URL(String(url));
  u.username = '';
  u.password = '';
  for (const key of [...u.searchParams.keys()]) {
    if (/^(_state|token|access_token|refresh_token|password|secret|sig|signature|x-amz-.*|x-goog-.*)$/i.test(key)) u.searchParams.set(key, '…');
  }
  return u.toString();
}

/** Parse a registry's error body; tolerant of non-JSON answers (proxies, HTML pages). */
export function parseSpecErrors(body: string): SpecError[] {
  try {
    const parsed = JSON.parse(body) as { errors?: unknown };
    if (!Array.isArray(parsed.errors)) return [];
    return parsed.errors
      .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string')
      .map((e) => ({ code: e['code'] as string, ...(typeof e['message'] === 'string' ? { message: e['message'] } : {}), ...(e['detail'] !== undefined ? { detail: e['detail'] } : {}) }));
  } catch {
    return [];
  }
}

export class RegistryError extends ModelshipError {
  override readonly name = 'RegistryError';
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly errors: SpecError[];

  constructor(method: string, url: URL | string, status: number, errors: SpecError[], context?: string, code?: string) {
    code ??= errors.map((e) => CODE_BY_SPEC_CODE[e.code]).find((c) => c !== undefined) ?? codeForStatus(status);
    const printable = redactUrl(url);
    const spec = errors.length ? `: ${errors.map((e) => `${e.code}${e.message ? ` (${e.message})` : ''}`).join('; ')}` : '';
    const advice = ADVICE[code];
    super(code, `${context ? `${context}: ` : ''}${method} ${printable} answered ${status}${spec}${advice ? `; ${advice}` : ''}`, {
      details: { method, url: printable, status, errors: errors.map((e) => e.code) },
    });
    this.method = method;
    this.url = printable;
    this.status = status;
    this.errors = errors;
  }
}

export function isRegistryError(err: unknown): err is RegistryError {
  return err instanceof RegistryError;
}
