import { beforeAll, describe, expect, it } from 'vitest';
import { verifyCertificateChain } from '../../modules/sign/cert-chain.js';
import {
  BasicConstraintsExtension,
  caExtensions,
  codeSigningExtensions,
  DAY,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  Extension,
  issue,
  KeyUsageFlags,
  KeyUsagesExtension,
  makeRoot,
  opensslVerify,
  UNKNOWN_CRITICAL,
  type TestCert,
} from './hostile-pki.js';

let root: TestCert;
let int: TestCert;
let leaf: TestCert;

beforeAll(async () => {
  root = await makeRoot('root');
  int = await issue(root, 'int', { extensions: caExtensions() });
  leaf = await issue(int, 'leaf');
}, 30_000);

function ours(signer: TestCert, untrusted: TestCert[], anchor: TestCert, validAt?: Date) {
  return verifyCertificateChain([signer.der, ...untrusted.map((c) => c.der)], [anchor.pem], validAt);
}

describe('OMS certificate chains judged as openssl verify (model_signing) judges them', () => {
  it('accepts leaf <- intermediate <- root', async () => {
    expect(ours(leaf, [int], root)).toEqual({ ok: true, detail: 'chain C=US, ST=WA, O=hostile, CN=leaf <- C=US, ST=WA, O=hostile, CN=int <- C=US, ST=WA, O=hostile, CN=root ends at a trusted CA' });
    expect((await opensslVerify(leaf, [int], root, leaf.cert.notBefore)).ok).toBe(true);
  });

  it('refuses an unknown critical extension on the leaf', async () => {
    const marked = await issue(int, 'marked', { extensions: [...codeSigningExtensions(), UNKNOWN_CRITICAL()] });
    const result = ours(marked, [int], root);
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/CN=marked" has critical extension 1\.3\.6\.1\.4\.1\.99999\.1\.1, which the verifier does not process/);
    const openssl = await opensslVerify(marked, [int], root, marked.cert.notBefore);
    expect(openssl).toMatchObject({ ok: false, output: expect.stringMatching(/unhandled critical extension/) });
  });

  it('refuses a chain through an intermediate that is not a CA, with cA=false or no basicConstraints', async () => {
    for (const [name, extensions] of [
      ['ca-false', [new BasicConstraintsExtension(false, undefined, true), new KeyUsagesExtension(KeyUsageFlags.keyCertSign, true)]],
      ['no-bc', [new KeyUsagesExtension(KeyUsageFlags.keyCertSign, true)]],
    ] as const) {
      const fake = await issue(root, name, { extensions: [...extensions] });
      const below = await issue(fake, `below-${name}`);
      const result = ours(below, [fake], root);
      expect(result.ok).toBe(false);
      expect(result.detail).toMatch(new RegExp(`CN=${name}" issues a certificate in the chain but is not a CA`));
      expect(await opensslVerify(below, [fake], root, below.cert.notBefore)).toMatchObject({ ok: false, output: expect.stringMatching(/invalid CA certificate/) });
    }
  });

  it('refuses an intermediate whose keyUsage lacks keyCertSign', async () => {
    const fake = await issue(root, 'no-certsign', { extensions: [new BasicConstraintsExtension(true, undefined, true), new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true)] });
    const below = await issue(fake, 'below-no-certsign');
    expect(ours(below, [fake], root).detail).toMatch(/CN=no-certsign" issues a certificate in the chain but its keyUsage lacks keyCertSign/);
    expect((await opensslVerify(below, [fake], root, below.cert.notBefore)).ok).toBe(false);
  });

  it("judges validity at the leaf's notBefore, as model_signing does, and at an explicit time when given", async () => {
    const expired = await issue(int, 'expired', { notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - DAY) });
    expect(ours(expired, [int], root).ok).toBe(false);
    // The intermediate and root were issued after this leaf's notBefore: issue a chain that covers it.
    const oldRoot = await makeRoot('old-root', { notBefore: new Date(Date.now() - 20 * DAY) });
    const oldInt = await issue(oldRoot, 'old-int', { extensions: caExtensions(), notBefore: new Date(Date.now() - 20 * DAY) });
    const oldLeaf = await issue(oldInt, 'old-leaf', { notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - DAY) });
    expect(ours(oldLeaf, [oldInt], oldRoot).ok).toBe(true);
    expect((await opensslVerify(oldLeaf, [oldInt], oldRoot, oldLeaf.cert.notBefore)).ok).toBe(true);
    const now = ours(oldLeaf, [oldInt], oldRoot, new Date());
    expect(now.detail).toMatch(/certificate "C=US, ST=WA, O=hostile, CN=old-leaf" is expired at /);
    expect(await opensslVerify(oldLeaf, [oldInt], oldRoot, new Date())).toMatchObject({ ok: false, output: expect.stringMatching(/certificate has expired/) });
  });

  it("refuses an intermediate that was not yet valid at the leaf's notBefore", async () => {
    const late = await issue(root, 'late-int', { extensions: caExtensions(), notBefore: new Date(Date.now() + DAY) });
    const early = await issue(late, 'early-leaf');
    expect(ours(early, [late], root).detail).toMatch(/CN=late-int" is not yet valid at /);
    expect(await opensslVerify(early, [late], root, early.cert.notBefore)).toMatchObject({ ok: false, output: expect.stringMatching(/not yet valid/) });
  });

  it('refuses a signing certificate whose key usages do not allow code signing (RFC 5280 4.2.1.3, 4.2.1.12)', async () => {
    const tls = await issue(int, 'tls', { extensions: [new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true), new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth])] });
    expect(ours(tls, [int], root).detail).toMatch(/CN=tls" extendedKeyUsage \(1\.3\.6\.1\.5\.5\.7\.3\.1\) does not allow codeSigning/);
    const encipher = await issue(int, 'encipher', { extensions: [new KeyUsagesExtension(KeyUsageFlags.keyEncipherment, true)] });
    expect(ours(encipher, [int], root).detail).toMatch(/CN=encipher" keyUsage lacks digitalSignature/);
    const bare = await issue(int, 'bare', { extensions: [] });
    expect(ours(bare, [int], root).detail).toMatch(/CN=bare" has no keyUsage extension/);
  });

  it('refuses a certificate that repeats an extension', async () => {
    const twice = await issue(int, 'twice', { extensions: [new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true), new KeyUsagesExtension(KeyUsageFlags.keyCertSign, false)] });
    expect(ours(twice, [int], root)).toEqual({ ok: false, detail: expect.stringMatching(/certificate 0 of the bundle is not a well-formed X\.509 certificate \(extension 2\.5\.29\.15 appears twice\)/) });
    expect((await opensslVerify(twice, [int], root, twice.cert.notBefore)).ok).toBe(false);
  });

  it('refuses a keyUsage extension whose value is not a BIT STRING', async () => {
    const garbled = await issue(int, 'garbled', { extensions: [new Extension('2.5.29.15', true, new Uint8Array([0x04, 0x01, 0x80]))] });
    expect(ours(garbled, [int], root).detail).toMatch(/^certificate 0 of the bundle is not a well-formed X\.509 certificate/);
    expect((await opensslVerify(garbled, [int], root, garbled.cert.notBefore)).ok).toBe(false);
  });

  it('refuses a leaf signed by another key than the intermediate it names', async () => {
    const impostor = await issue(root, 'int', { extensions: caExtensions() });
    const forged = await issue(impostor, 'forged');
    expect(ours(forged, [int], root).detail).toMatch(/does not lead to a trusted CA/);
    expect((await opensslVerify(forged, [int], root, forged.cert.notBefore)).ok).toBe(false);
  });
});
