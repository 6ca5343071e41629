/**
 * One error family for the whole project: every error a module throws carries a stable `code`
 * that callers branch on, a message that says what to do next, and the original failure as `cause`.
 */

/** Error families; each maps to one documented exit status (see docs/exit-codes.md). */
export const EXIT_STATUS = {
  ok: 0,
  failure: 1,
  usage: 2,
  input: 3,
  notFound: 4,
  auth: 5,
  network: 6,
  integrity: 7,
  verification: 8,
  gate: 9,
  engine: 10,
} as const;

export type ErrorFamily = keyof typeof EXIT_STATUS;

/** Every code a module throws, by module; its family decides the exit status (docs/exit-codes.md lists them all). */
export const FAMILY_BY_CODE: Record<string, ErrorFamily> = {
  // cli
  USAGE: 'usage',
  INPUT_INVALID: 'input',
  // spec
  SPEC_INVALID: 'input',
  SPEC_NOT_FOUND: 'notFound',
  SPEC_EXISTS: 'usage',
  SPEC_LINK_OUTSIDE: 'input',
  // oci
  OCI_INVALID_REFERENCE: 'usage',
  OCI_INVALID_MANIFEST: 'input',
  OCI_INVALID_LAYOUT: 'input',
  OCI_NOT_FOUND: 'notFound',
  OCI_UNAUTHORIZED: 'auth',
  OCI_DENIED: 'auth',
  OCI_NETWORK: 'network',
  OCI_REGISTRY: 'network',
  OCI_UNSUPPORTED: 'failure',
  OCI_DIGEST_MISMATCH: 'integrity',
  OCI_SIZE_MISMATCH: 'integrity',
  OCI_SIZE_LIMIT: 'integrity',
  OCI_INVALID_DIGEST: 'input',
  OCI_LAYOUT_LOCKED: 'failure',
  OCI_COPY_FAILED: 'failure',
  OCI_TLS: 'network',
  // modelpack
  UNPACK_UNSAFE_PATH: 'integrity',
  UNPACK_TOO_LARGE: 'integrity',
  MODELPACK_CONFIG_INVALID: 'input',
  UNPACK_FAILED: 'failure',
  MODELPACK_TOOL_MISSING: 'failure',
  MODELPACK_COMPRESSION_FAILED: 'failure',
  PACK_SOURCE_CHANGED: 'input',
  // sign
  SIGN_FAILED: 'failure',
  NOTATION_ENVELOPE_INVALID: 'input',
  NOTATION_CERT_INVALID: 'input',
  NOTATION_KEY_MISMATCH: 'input',
  NOTATION_KEY_UNSUPPORTED: 'input',
  NOTATION_POLICY_INVALID: 'input',
  NOTATION_POLICY_KIND: 'input',
  NOTATION_NO_POLICY: 'verification',
  NOTATION_TRUST_STORE_MISSING: 'input',
  NOTATION_TRUST_STORE_INVALID: 'input',
  NOTATION_REFERENCE_INVALID: 'usage',
  SIGN_KEY_INVALID: 'input',
  SIGN_KEY_PASSWORD: 'input',
  SIGN_KEY_MISSING: 'input',
  SIGN_HASH_UNSUPPORTED: 'input',
  SIGN_SYMLINK: 'input',
  SIGN_NO_IDENTITY: 'auth',
  SIGN_FILE_DIGESTS_MISSING: 'input',
  SIGN_DUPLICATE_PATH: 'input',
  VERIFY_FAILED: 'verification',
  // card
  GATE_FAILED: 'gate',
  MOF_INVALID: 'input',
  CARD_INVALID: 'input',
  CARD_EXISTS: 'input',
  CARD_LICENSE_UNKNOWN: 'input',
  // infer
  ENGINE_FAILED: 'engine',
  MODEL_INVALID: 'input',
  MODEL_NOT_FOUND: 'notFound',
  MODEL_AMBIGUOUS: 'usage',
  INFER_ENGINE_MISSING: 'engine',
  INFER_ENGINE_FAILED: 'engine',
  INFER_NO_GPU: 'engine',
  INFER_BAD_REQUEST: 'input',
  INFER_QUEUE_FULL: 'engine',
  INFER_CONTAINER_FAILED: 'engine',
  INFER_PORT_IN_USE: 'usage',
  INFER_ADDRESS_UNAVAILABLE: 'usage',
  // sbom
  SBOM_INVALID: 'input',
  SBOM_DEPS_INVALID: 'input',
  INSTALL_BROKEN: 'failure',
  // store
  STORE_NOT_FOUND: 'notFound',
  // registry (Kubeflow Model Registry)
  MODEL_REGISTRY_BAD_REQUEST: 'input',
  MODEL_REGISTRY_UNAUTHORIZED: 'auth',
  MODEL_REGISTRY_DENIED: 'auth',
  MODEL_REGISTRY_NOT_FOUND: 'notFound',
  MODEL_REGISTRY_CONFLICT: 'failure',
  MODEL_REGISTRY_VERSION_EXISTS: 'input',
  MODEL_REGISTRY_METHOD_NOT_ALLOWED: 'usage',
  MODEL_REGISTRY_TOO_LARGE: 'input',
  MODEL_REGISTRY_NETWORK: 'network',
  MODEL_REGISTRY_SERVER: 'network',
  MODEL_REGISTRY_INVALID_RESPONSE: 'network',
  MODEL_REGISTRY_DATABASE: 'failure',
  REGISTER_NOT_PINNABLE: 'usage',
  // system
  DISK_FULL: 'failure',
  // gitops
  GITOPS_INVALID_NAME: 'input',
  GITOPS_INVALID_PATH: 'usage',
  GITOPS_INVALID_BRANCH: 'usage',
  GITOPS_REGISTRY_PENDING: 'failure',
  GITOPS_DIGEST_REQUIRED: 'input',
  GITOPS_NOT_REMOTE: 'usage',
  GITOPS_UNSUPPORTED: 'usage',
  GITOPS_MANIFEST_INVALID: 'input',
  GITOPS_GIT_FAILED: 'failure',
  GITOPS_PUSH_REJECTED: 'failure',
  GITOPS_PR_FAILED: 'network',
  GITOPS_TOKEN_MISSING: 'auth',
  // gitops: the cluster's admission policy applied locally (serve/check/ship --policy)
  POLICY_INVALID: 'input',
  POLICY_NOT_FOUND: 'notFound',
  POLICY_ENV_REQUIRED: 'usage',
  POLICY_NOT_COVERED: 'usage',
  POLICY_NOTHING_SIGNED: 'usage',
  POLICY_TRUSTED_ROOT_MISSING: 'usage',
  POLICY_DENIED: 'verification',
  POLICY_MOF_DENIED: 'gate',
  // hub (Hugging Face import)
  HF_INVALID_SOURCE: 'usage',
  HF_GATED: 'auth',
  HF_NOT_FOUND: 'notFound',
  HF_NETWORK: 'network',
  HF_INVALID_RESPONSE: 'network',
  HF_DIGEST_MISMATCH: 'integrity',
  HF_SIZE_MISMATCH: 'integrity',
  HF_COMMIT_MISMATCH: 'integrity',
  HF_NO_FILES: 'input',
  // trace (each broken link's code)
  TRACE_NOT_PINNED: 'input',
  TRACE_DIGEST_DISAGREES: 'input',
  TRACE_NOT_REGISTERED: 'notFound',
  TRACE_REGISTRY_DISAGREES: 'integrity',
  TRACE_UNSIGNED: 'verification',
  TRACE_UNVERIFIED: 'verification',
  TRACE_NO_SBOM: 'notFound',
  TRACE_NO_MOF_REPORT: 'notFound',
  TRACE_NO_SOURCE: 'notFound',
  TRACE_FAILED: 'failure',
};

export class ModelshipError extends Error {
  override readonly name: string = 'ModelshipError';
  readonly code: string;
  readonly details?: Record<string, unknown>;

  constructor(code: string, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.details) this.details = options.details;
  }

  get family(): ErrorFamily {
    return familyOf(this.code);
  }
}

/** A command line the user got wrong: exit status 2, with the usage hint. */
export class UsageError extends ModelshipError {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super('USAGE', message);
  }
}

export function familyOf(code: string): ErrorFamily {
  return FAMILY_BY_CODE[code] ?? 'failure';
}

export function exitStatusOf(err: unknown): number {
  return isModelshipError(err) ? EXIT_STATUS[familyOf(err.code)] : EXIT_STATUS.failure;
}

export function isModelshipError(err: unknown): err is ModelshipError {
  return err instanceof ModelshipError;
}

export function hasCode(err: unknown, code: string): boolean {
  return isModelshipError(err) && err.code === code;
}

/** Rethrow any failure as a coded error with the original kept as `cause` (translate once per layer). */
export function rethrowAs(code: string, message: string, cause: unknown): never {
  if (isModelshipError(cause)) throw cause;
  throw new ModelshipError(code, message, { cause });
}

/** Describe an unknown thrown value in one line without leaking objects. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Failures of the machine, not of modelship or its input, that a person can fix: named once here. */
const SYSTEM_ERRORS: Record<string, { code: string; what: string; fix: string }> = {
  ENOSPC: { code: 'DISK_FULL', what: 'no space left on the device', fix: 'free some space, or point MODELSHIP_HOME (the store) or the output at a larger disk, then run the command again' },
  EDQUOT: { code: 'DISK_FULL', what: 'the disk quota is used up', fix: 'free some space within your quota, or point MODELSHIP_HOME (the store) or the output at another disk, then run the command again' },
};

/** The system failure (full disk, quota) somewhere in `err`'s cause chain as a coded error naming the path, or undefined. */
export function systemErrorOf(err: unknown): ModelshipError | undefined {
  for (let at: unknown = err, hops = 0; at instanceof Error && hops < 8; at = at.cause, hops++) {
    const errno = at as NodeJS.ErrnoException & { dest?: string };
    const known = errno.code === undefined ? undefined : SYSTEM_ERRORS[errno.code];
    if (!known) continue;
    // A copy names its source as `path` and what it was writing as `dest`.
    const file = errno.dest ?? errno.path;
    const where = file ? ` writing ${file}` : '';
    return new ModelshipError(known.code, `${known.what}${where}: ${known.fix}`, { cause: err, details: { errno: errno.code, ...(file ? { path: file } : {}) } });
  }
  return undefined;
}
