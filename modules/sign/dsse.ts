/**
 * DSSE (Dead Simple Signing Envelope) v1: signatures cover the pre-authentication encoding of the
 * exact payload bytes, never a re-serialization.
 */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in bytes. */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  const head = Buffer.from(`DSSEv1 ${type.length} ${payloadType} ${payload.length} `, 'utf8');
  return Buffer.concat([head, payload]);
}
