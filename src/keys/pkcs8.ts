/**
 * PKCS#8 OneAsymmetricKey (RFC 5958) for ML-KEM and ML-DSA. The privateKey OCTET STRING contains
 * the CHOICE of the IETF LAMPS ASN.1 modules (X509-ML-KEM-2025, X509-ML-DSA-2025), with implicit
 * tagging:
 *
 *     PrivateKey ::= CHOICE {
 *       seed        [0] OCTET STRING (SIZE (64 for ML-KEM, 32 for ML-DSA)),
 *       expandedKey OCTET STRING (SIZE (secret key length)),
 *       both        SEQUENCE { seed OCTET STRING, expandedKey OCTET STRING } }
 *
 * so `seed` is encoded with tag 0x80, `expandedKey` with 0x04 and `both` with 0x30.
 */
import { InvalidEncodingError, InvalidLengthError } from '../errors.js';
import type { KeyAlgorithmInfo } from './algorithms.js';
import {
  decodeSmallInteger,
  decodeWholeBitString,
  DerReader,
  DerTag,
  describeTag,
  encodeBitString,
  encodeElement,
  encodeOctetString,
  encodeSequence,
  encodeSmallInteger,
} from './der.js';
import { encodeAlgorithmIdentifier, readAlgorithmIdentifier } from './spki.js';

/** Alternative of the private key CHOICE. */
export type PrivateKeyForm = 'seed' | 'expandedKey' | 'both';

/** Every private key form, in the order of the ASN.1 CHOICE. */
export const PRIVATE_KEY_FORMS: readonly PrivateKeyForm[] = Object.freeze([
  'seed',
  'expandedKey',
  'both',
]);

const STRUCTURE = 'OneAsymmetricKey';
/** OneAsymmetricKey version v1 (PKCS#8 PrivateKeyInfo): no publicKey field. */
const VERSION_1 = 0;
/** OneAsymmetricKey version v2: the optional [1] publicKey field may be present. */
const VERSION_2 = 1;

/** Private key material to encode; `form` decides which fields must be present. */
export interface Pkcs8Contents {
  /** Key-generation seed, required by the `seed` and `both` forms. */
  seed?: Uint8Array;
  /** Expanded secret key, required by the `expandedKey` and `both` forms. */
  expandedKey?: Uint8Array;
  /** Raw public key; when given, it is written to the v2 `publicKey` field. */
  publicKey?: Uint8Array;
}

/** A decoded OneAsymmetricKey; lengths are checked, key contents are not. */
export interface DecodedPkcs8 extends Pkcs8Contents {
  /** CHOICE alternative the key used. */
  form: PrivateKeyForm;
}

function encodeChoice(form: PrivateKeyForm, contents: Pkcs8Contents): Uint8Array {
  const { seed, expandedKey } = contents;
  if (form === 'seed') {
    return encodeElement(DerTag.CONTEXT_0_PRIMITIVE, seed!);
  }
  if (form === 'expandedKey') {
    return encodeOctetString(expandedKey!);
  }
  return encodeSequence(encodeOctetString(seed!), encodeOctetString(expandedKey!));
}

/**
 * Encodes DER OneAsymmetricKey with the private key in `form`: version v1, or v2 with the
 * `publicKey` field when `contents.publicKey` is given. The caller checks lengths and presence.
 */
export function encodePkcs8(
  info: KeyAlgorithmInfo,
  form: PrivateKeyForm,
  contents: Pkcs8Contents,
): Uint8Array {
  const choice = encodeChoice(form, contents);
  const fields = [
    encodeSmallInteger(contents.publicKey === undefined ? VERSION_1 : VERSION_2),
    encodeAlgorithmIdentifier(info),
    encodeOctetString(choice),
  ];
  if (contents.publicKey !== undefined) {
    fields.push(encodeBitString(contents.publicKey, DerTag.CONTEXT_1_PRIMITIVE));
  }

  const der = encodeSequence(...fields);
  choice.fill(0);
  return der;
}

function requireLength(
  bytes: Uint8Array,
  parameter: string,
  info: KeyAlgorithmInfo,
  expected: number,
): Uint8Array {
  if (bytes.length !== expected) {
    throw new InvalidLengthError(parameter, info.name, expected, bytes.length);
  }
  return bytes.slice();
}

function decodeChoice(info: KeyAlgorithmInfo, octets: Uint8Array, offset: number): DecodedPkcs8 {
  const structure = `${info.name} private key`;
  const reader = new DerReader(octets, structure, offset);
  const element = reader.read('private key CHOICE');
  reader.finish('the private key CHOICE');

  if (element.tag === DerTag.CONTEXT_0_PRIMITIVE) {
    return { form: 'seed', seed: requireLength(element.content, 'seed', info, info.seedLength) };
  }
  if (element.tag === DerTag.OCTET_STRING) {
    const expandedKey = requireLength(element.content, 'secretKey', info, info.secretKeyLength);
    return { form: 'expandedKey', expandedKey };
  }
  if (element.tag === DerTag.SEQUENCE) {
    const inner = DerReader.inside(element, structure);
    const seed = inner.readExpected(DerTag.OCTET_STRING, 'both.seed');
    const expandedKey = inner.readExpected(DerTag.OCTET_STRING, 'both.expandedKey');
    inner.finish('both.expandedKey');
    return {
      form: 'both',
      seed: requireLength(seed.content, 'seed', info, info.seedLength),
      expandedKey: requireLength(expandedKey.content, 'secretKey', info, info.secretKeyLength),
    };
  }

  throw new InvalidEncodingError(
    `invalid ${structure}: found ${describeTag(element.tag)} where the CHOICE needs seed [0] ` +
      `(0x80), expandedKey OCTET STRING (0x04) or both SEQUENCE (0x30); encodings from ` +
      `pre-standard drafts are not accepted`,
  );
}

/**
 * Decodes DER OneAsymmetricKey for `info`. Accepts versions v1 and v2, skips `attributes`, and
 * returns the v2 `publicKey` field when present. Throws `InvalidEncodingError` for malformed DER
 * or another algorithm, and `InvalidLengthError` for a seed or key of the wrong length.
 */
export function decodePkcs8(info: KeyAlgorithmInfo, der: Uint8Array): DecodedPkcs8 {
  const outer = new DerReader(der, STRUCTURE);
  const sequence = outer.readExpected(DerTag.SEQUENCE, STRUCTURE);
  outer.finish(STRUCTURE);

  const reader = DerReader.inside(sequence, STRUCTURE);
  const versionElement = reader.readExpected(DerTag.INTEGER, 'version');
  const version = decodeSmallInteger(versionElement, 'version', STRUCTURE);
  if (version !== VERSION_1 && version !== VERSION_2) {
    throw new InvalidEncodingError(
      `invalid ${STRUCTURE}: version ${version} is not v1 (0) or v2 (1)`,
    );
  }
  readAlgorithmIdentifier(reader, info, STRUCTURE);
  const privateKey = reader.readExpected(DerTag.OCTET_STRING, 'privateKey');

  if (reader.peekTag() === DerTag.CONTEXT_0_CONSTRUCTED) {
    reader.read('attributes');
  }
  let publicKey: Uint8Array | undefined;
  if (reader.peekTag() === DerTag.CONTEXT_1_PRIMITIVE) {
    const element = reader.read('publicKey');
    if (version !== VERSION_2) {
      throw new InvalidEncodingError(
        `invalid ${STRUCTURE}: the publicKey field requires version v2 (1), found v1 (0)`,
      );
    }
    publicKey = decodeWholeBitString(element, 'publicKey', STRUCTURE);
    publicKey = requireLength(publicKey, 'publicKey', info, info.publicKeyLength);
  }
  reader.finish(publicKey === undefined ? 'privateKey' : 'publicKey');

  const decoded = decodeChoice(info, privateKey.content, privateKey.contentOffset);
  return publicKey === undefined ? decoded : { ...decoded, publicKey };
}
