/**
 * SubjectPublicKeyInfo (RFC 5280, section 4.1.1.2) for ML-KEM and ML-DSA: an AlgorithmIdentifier
 * with the parameter set's OID and no parameters, then the raw FIPS 203 / FIPS 204 public key as
 * the BIT STRING, with no further ASN.1 wrapping.
 */
import { InvalidEncodingError, InvalidLengthError } from '../errors.js';
import { algorithmForOid } from './algorithms.js';
import type { KeyAlgorithmInfo } from './algorithms.js';
import {
  decodeObjectIdentifier,
  decodeWholeBitString,
  DerReader,
  DerTag,
  encodeBitString,
  encodeObjectIdentifier,
  encodeSequence,
} from './der.js';

const STRUCTURE = 'SubjectPublicKeyInfo';

/** Encodes `AlgorithmIdentifier { algorithm OID }` with the parameters absent. */
export function encodeAlgorithmIdentifier(info: KeyAlgorithmInfo): Uint8Array {
  return encodeSequence(encodeObjectIdentifier(info.oid));
}

/**
 * Reads an AlgorithmIdentifier from `reader` and throws unless it names `info` with the
 * parameters absent, as the ML-KEM and ML-DSA certificate profiles require.
 */
export function readAlgorithmIdentifier(
  reader: DerReader,
  info: KeyAlgorithmInfo,
  structure: string,
): void {
  const element = reader.readExpected(DerTag.SEQUENCE, 'algorithm');
  const inner = DerReader.inside(element, structure);
  const oidElement = inner.readExpected(DerTag.OBJECT_IDENTIFIER, 'algorithm OID');
  const oid = decodeObjectIdentifier(oidElement, 'algorithm OID', structure);

  if (oid !== info.oid) {
    const found = algorithmForOid(oid);
    const description = found === undefined ? `OID ${oid}` : `a ${found.name} key (OID ${oid})`;
    throw new InvalidEncodingError(
      `${structure} contains ${description}, expected ${info.name} (OID ${info.oid}); import it with ` +
        `the algorithm it was made for`,
    );
  }
  if (!inner.done) {
    throw new InvalidEncodingError(
      `invalid ${structure}: the ${info.name} AlgorithmIdentifier has parameters, which must ` +
        `be absent (not even NULL)`,
    );
  }
}

/** Encodes the raw `publicKey` of `info` as DER SubjectPublicKeyInfo; the length is not checked. */
export function encodeSubjectPublicKeyInfo(
  info: KeyAlgorithmInfo,
  publicKey: Uint8Array,
): Uint8Array {
  return encodeSequence(encodeAlgorithmIdentifier(info), encodeBitString(publicKey));
}

/**
 * Decodes DER SubjectPublicKeyInfo and returns the raw public key. Throws `InvalidEncodingError`
 * for malformed DER or another algorithm, and `InvalidLengthError` for a key of the wrong length.
 */
export function decodeSubjectPublicKeyInfo(info: KeyAlgorithmInfo, der: Uint8Array): Uint8Array {
  const outer = new DerReader(der, STRUCTURE);
  const spki = outer.readExpected(DerTag.SEQUENCE, STRUCTURE);
  outer.finish(STRUCTURE);

  const reader = DerReader.inside(spki, STRUCTURE);
  readAlgorithmIdentifier(reader, info, STRUCTURE);
  const keyElement = reader.readExpected(DerTag.BIT_STRING, 'subjectPublicKey');
  reader.finish('subjectPublicKey');

  const publicKey = decodeWholeBitString(keyElement, 'subjectPublicKey', STRUCTURE);
  if (publicKey.length !== info.publicKeyLength) {
    throw new InvalidLengthError('publicKey', info.name, info.publicKeyLength, publicKey.length);
  }
  return publicKey.slice();
}
