/**
 * A byte-level DER builder for tests, written separately from src/keys/der.ts so that reference
 * encodings do not share a bug with the code under test. It also builds invalid encodings.
 */

/** DER content bytes of the NIST algorithm OIDs, written out from their dotted form. */
export const OID_CONTENT = {
  'ML-KEM-512': '608648016503040401',
  'ML-KEM-768': '608648016503040402',
  'ML-KEM-1024': '608648016503040403',
  'ML-DSA-44': '608648016503040311',
  'ML-DSA-65': '608648016503040312',
  'ML-DSA-87': '608648016503040313',
} as const;

/** Returns the shortest DER length bytes for `length`. */
export function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  if (length < 0x100) return [0x81, length];
  return [0x82, length >> 8, length & 0xff];
}

/** Returns tag, shortest length and the concatenated `parts`. */
export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const content = Buffer.concat(parts);
  return Uint8Array.from(
    Buffer.concat([Buffer.from([tag, ...derLength(content.length)]), content]),
  );
}

/** Returns bytes from a hex string. */
export function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** AlgorithmIdentifier with the OID of `algorithm` and the parameters absent. */
export function algorithmIdentifier(algorithm: keyof typeof OID_CONTENT): Uint8Array {
  return tlv(0x30, tlv(0x06, hexBytes(OID_CONTENT[algorithm])));
}

/** SubjectPublicKeyInfo of a raw public key. */
export function spki(algorithm: keyof typeof OID_CONTENT, publicKey: Uint8Array): Uint8Array {
  return tlv(0x30, algorithmIdentifier(algorithm), tlv(0x03, Uint8Array.of(0), publicKey));
}

/** OneAsymmetricKey v1 around already-encoded private key CHOICE bytes. */
export function pkcs8(algorithm: keyof typeof OID_CONTENT, choice: Uint8Array): Uint8Array {
  return tlv(0x30, tlv(0x02, Uint8Array.of(0)), algorithmIdentifier(algorithm), tlv(0x04, choice));
}
