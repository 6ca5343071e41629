/**
 * The three ways to sign an OMS statement into a Sigstore bundle: a key, an X.509 certificate
 * with its chain, or keyless (Fulcio certificate, Rekor entry). All go through sigstore-js's
 * DSSE bundle builder; the key methods make no network call.
 */
import { sign as cryptoSign, X509Certificate, type KeyObject } from 'node:crypto';
import { DSSEBundleBuilder, FulcioSigner, RekorWitness, type IdentityProvider, type Signer } from '@sigstore/sign';
import { bundleToJSON } from '@sigstore/bundle';
import { ModelshipError, describeError } from '../errors/index.js';
import { hashForKey, publicKeyHint, publicKeyPem } from './keys.js';
import { BUNDLE_V03_MEDIA_TYPE, type SerializedOmsBundle } from './bundle.js';
import { IN_TOTO_PAYLOAD_TYPE } from './dsse.js';
import type { InTotoStatement } from './oms/statement.js';

export const DEFAULT_FULCIO_URL = 'https://fulcio.sigstore.dev';
export const DEFAULT_REKOR_URL = 'https://rekor.sigstore.dev';

export type SigningMethod =
  | { kind: 'key'; privateKey: KeyObject }
  | { kind: 'certificate'; privateKey: KeyObject; certificatePem: string; chainPem?: string }
  | {
      kind: 'keyless';
      identity: IdentityProvider;
      fulcioURL?: string;
      rekorURL?: string;
      /** Rekor entry kind: `dsse` as model_signing writes it; `intoto` for logs (and mocks) without dsse. */
      rekorEntryType?: 'dsse' | 'intoto';
    };

/** Sign the statement's exact JSON bytes; returns the bundle as it is written to `model.sig`. */
export async function signStatement(statement: InTotoStatement, method: SigningMethod): Promise<SerializedOmsBundle> {
  const payload = Buffer.from(JSON.stringify(statement), 'utf8');
  const builder = bundleBuilderFor(method);
  let bundle;
  try {
    bundle = await builder.create({ data: payload, type: IN_TOTO_PAYLOAD_TYPE });
  } catch (err) {
    // sigstore-js wraps what our identity provider threw; surface our own coded error.
    const ours = findModelshipError(err);
    if (ours) throw ours;
    throw new ModelshipError('SIGN_FAILED', `signing failed: ${describeError(err)}${causeText(err)}`, { cause: err });
  }
  const json = bundleToJSON(bundle) as unknown as SerializedOmsBundle;
  return toReferenceShape(json, method);
}

function findModelshipError(err: unknown): ModelshipError | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof ModelshipError) return e;
  }
  return undefined;
}

function causeText(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  return cause ? `: ${describeError(cause)}` : '';
}

function bundleBuilderFor(method: SigningMethod): DSSEBundleBuilder {
  switch (method.kind) {
    case 'key':
      return new DSSEBundleBuilder({ signer: keySigner(method.privateKey), witnesses: [] });
    case 'certificate':
      return new DSSEBundleBuilder({ signer: certificateSigner(method.privateKey, method.certificatePem), witnesses: [] });
    case 'keyless':
      return new DSSEBundleBuilder({
        signer: new FulcioSigner({ identityProvider: method.identity, fulcioBaseURL: method.fulcioURL ?? DEFAULT_FULCIO_URL }),
        witnesses: [new RekorWitness({ rekorBaseURL: method.rekorURL ?? DEFAULT_REKOR_URL, entryType: method.rekorEntryType ?? 'dsse' })],
      });
    default:
      return assertNever(method);
  }
}

function keySigner(privateKey: KeyObject): Signer {
  const hash = hashForKey(privateKey, 'signing key');
  return {
    async sign(data) {
      return {
        signature: cryptoSign(hash, data, privateKey),
        key: { $case: 'publicKey', publicKey: publicKeyPem(privateKey), hint: publicKeyHint(privateKey) },
      };
    },
  };
}

function certificateSigner(privateKey: KeyObject, certificatePem: string): Signer {
  const hash = hashForKey(privateKey, 'signing key');
  const leaf = new X509Certificate(firstPem(certificatePem, 'certificate'));
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new ModelshipError('SIGN_KEY_INVALID', 'the signing key does not belong to the certificate given with --cert');
  }
  return {
    async sign(data) {
      return { signature: cryptoSign(hash, data, privateKey), key: { $case: 'x509Certificate', certificate: leaf.toString() } };
    },
  };
}

/** model_signing writes keyid "", no empty timestamp block, and the certificate chain (leaf first) for X.509. */
function toReferenceShape(json: SerializedOmsBundle, method: SigningMethod): SerializedOmsBundle {
  const vm = { ...json.verificationMaterial };
  const tsa = vm.timestampVerificationData as { rfc3161Timestamps?: unknown[] } | undefined;
  if (!tsa?.rfc3161Timestamps?.length) delete vm.timestampVerificationData;
  if (method.kind === 'certificate') {
    delete vm.certificate;
    const certs = [...splitPem(method.certificatePem).slice(0, 1), ...splitPem(method.chainPem ?? '')];
    vm.x509CertificateChain = { certificates: certs.map((pem) => ({ rawBytes: new X509Certificate(pem).raw.toString('base64') })) };
  }
  const ordered = {
    ...(vm.publicKey ? { publicKey: vm.publicKey } : {}),
    ...(vm.certificate ? { certificate: vm.certificate } : {}),
    ...(vm.x509CertificateChain ? { x509CertificateChain: vm.x509CertificateChain } : {}),
    tlogEntries: vm.tlogEntries ?? [],
    ...(vm.timestampVerificationData ? { timestampVerificationData: vm.timestampVerificationData } : {}),
  };
  const env = json.dsseEnvelope;
  return {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: ordered,
    dsseEnvelope: {
      payload: env.payload,
      payloadType: env.payloadType,
      signatures: env.signatures.map((s) => ({ sig: s.sig, keyid: method.kind === 'keyless' ? (s.keyid ?? '') : '' })),
    },
  };
}

export function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((p) => p + '\n') ?? [];
}

function firstPem(text: string, what: string): string {
  const first = splitPem(text)[0];
  if (!first) throw new ModelshipError('SIGN_KEY_INVALID', `the ${what} file holds no PEM certificate`);
  return first;
}

function assertNever(x: never): never {
  throw new ModelshipError('SIGN_FAILED', `unknown signing method ${JSON.stringify(x)}`);
}
