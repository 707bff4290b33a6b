import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkMlKemPublicKeyModulus } from '../../src/keys/public-key-check.js';
import { exportPrivateKey, importPrivateKey } from '../../src/keys/index.js';
import { exportPublicKey, importPublicKey } from '../../src/keys/public-key.js';
import type { EncodedPublicKey, PublicKeyFormat } from '../../src/keys/public-key.js';
import type { EncodedPrivateKey, PrivateKeyFormat } from '../../src/keys/private-key.js';
import { keygenFor } from './core.js';
import { algorithmIdentifier, hexBytes, OID_CONTENT, pkcs8, spki, tlv } from './der-builder.js';

const kemKeygen = keygenFor('ML-KEM-768');
const dsaKeygen = keygenFor('ML-DSA-65');
const kem = kemKeygen(randomBytes(64));
const dsa = dsaKeygen(randomBytes(32));
const otherDsa = dsaKeygen(randomBytes(32));

const kemSpki = spki('ML-KEM-768', kem.publicKey);
const dsaSpki = spki('ML-DSA-65', dsa.publicKey);

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

/** Re-encodes the outer length of `der` (a 0x82 two-byte length) with `lengthBytes`. */
function withOuterLength(der: Uint8Array, lengthBytes: number[]): Uint8Array {
  expect(der[1]).toBe(0x82);
  return concat(Uint8Array.of(der[0]!, ...lengthBytes), der.subarray(4));
}

/** Sets the ML-KEM coefficient at `index` of the packed t-hat vector to `value`. */
function withCoefficient(publicKey: Uint8Array, index: number, value: number): Uint8Array {
  const bytes = publicKey.slice();
  const offset = (index >> 1) * 3;
  if (index % 2 === 0) {
    bytes[offset] = value & 0xff;
    bytes[offset + 1] = (bytes[offset + 1]! & 0xf0) | (value >> 8);
  } else {
    bytes[offset + 1] = (bytes[offset + 1]! & 0x0f) | ((value & 0x0f) << 4);
    bytes[offset + 2] = value >> 4;
  }
  return bytes;
}

interface PublicCase {
  name: string;
  algorithm: 'ML-KEM-768' | 'ML-DSA-65';
  data: EncodedPublicKey;
  format: PublicKeyFormat;
  code: string;
}

const dsaSpkiLength = dsaSpki.length - 4;
const validPem = exportPublicKey('ML-DSA-65', dsa.publicKey, 'spki-pem');
const pemBody = validPem.split('\n').slice(1, -2);
const validBase64 = Buffer.from(dsa.publicKey).toString('base64');
const validJwk = exportPublicKey('ML-DSA-65', dsa.publicKey, 'jwk');

const PUBLIC_CASES: PublicCase[] = [
  {
    name: 'empty input',
    algorithm: 'ML-DSA-65',
    data: new Uint8Array(0),
    format: 'spki-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'ML-DSA key as ML-KEM',
    algorithm: 'ML-KEM-768',
    data: dsaSpki,
    format: 'spki-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'other ML-DSA parameter set',
    algorithm: 'ML-DSA-65',
    data: spki('ML-DSA-44', dsa.publicKey),
    format: 'spki-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'foreign OID (id-ecPublicKey)',
    algorithm: 'ML-DSA-65',
    data: tlv(
      0x30,
      tlv(0x30, tlv(0x06, hexBytes('2a8648ce3d0201'))),
      tlv(0x03, Uint8Array.of(0), dsa.publicKey),
    ),
    format: 'spki-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'NULL parameters',
    algorithm: 'ML-DSA-65',
    data: tlv(
      0x30,
      tlv(0x30, tlv(0x06, hexBytes(OID_CONTENT['ML-DSA-65'])), tlv(0x05)),
      tlv(0x03, Uint8Array.of(0), dsa.publicKey),
    ),
    format: 'spki-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'trailing byte',
    algorithm: 'ML-DSA-65',
    data: concat(dsaSpki, Uint8Array.of(0)),
    format: 'spki-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'trailing element inside SEQUENCE',
    algorithm: 'ML-DSA-65',
    data: tlv(
      0x30,
      algorithmIdentifier('ML-DSA-65'),
      tlv(0x03, Uint8Array.of(0), dsa.publicKey),
      tlv(0x05),
    ),
    format: 'spki-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'truncated input',
    algorithm: 'ML-DSA-65',
    data: dsaSpki.subarray(0, dsaSpki.length - 1),
    format: 'spki-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'non-minimal length (3 bytes)',
    algorithm: 'ML-DSA-65',
    data: withOuterLength(dsaSpki, [0x83, 0x00, dsaSpkiLength >> 8, dsaSpkiLength & 0xff]),
    format: 'spki-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'long form for a short length',
    algorithm: 'ML-DSA-65',
    data: tlv(
      0x30,
      concat(Uint8Array.of(0x30, 0x81, 0x0b), tlv(0x06, hexBytes(OID_CONTENT['ML-DSA-65']))),
      tlv(0x03, Uint8Array.of(0), dsa.publicKey),
    ),
    format: 'spki-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'indefinite length',
    algorithm: 'ML-DSA-65',
    data: concat(Uint8Array.of(0x30, 0x80), dsaSpki.subarray(4), Uint8Array.of(0, 0)),
    format: 'spki-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'five-byte length',
    algorithm: 'ML-DSA-65',
    data: withOuterLength(dsaSpki, [0x85, 0, 0, 0, dsaSpkiLength >> 8, dsaSpkiLength & 0xff]),
    format: 'spki-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'multi-byte tag',
    algorithm: 'ML-DSA-65',
    data: concat(Uint8Array.of(0x1f, 0x81), dsaSpki.subarray(1)),
    format: 'spki-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'OCTET STRING key in place of BIT STRING',
    algorithm: 'ML-DSA-65',
    data: tlv(0x30, algorithmIdentifier('ML-DSA-65'), tlv(0x04, dsa.publicKey)),
    format: 'spki-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'BIT STRING with unused bits',
    algorithm: 'ML-DSA-65',
    data: tlv(0x30, algorithmIdentifier('ML-DSA-65'), tlv(0x03, Uint8Array.of(1), dsa.publicKey)),
    format: 'spki-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'OID with 0x80 padding',
    algorithm: 'ML-DSA-65',
    data: tlv(
      0x30,
      tlv(0x30, tlv(0x06, hexBytes('6080864801650304031' + '2'))),
      tlv(0x03, Uint8Array.of(0), dsa.publicKey),
    ),
    format: 'spki-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'key one byte short',
    algorithm: 'ML-DSA-65',
    data: spki('ML-DSA-65', dsa.publicKey.subarray(1)),
    format: 'spki-der',
    code: 'ERR_INVALID_LENGTH',
  },
  {
    name: 'key one byte long',
    algorithm: 'ML-DSA-65',
    data: spki('ML-DSA-65', concat(dsa.publicKey, Uint8Array.of(0))),
    format: 'spki-der',
    code: 'ERR_INVALID_LENGTH',
  },
  {
    name: 'raw key of wrong length',
    algorithm: 'ML-KEM-768',
    data: kem.publicKey.subarray(1),
    format: 'raw',
    code: 'ERR_INVALID_LENGTH',
  },
  {
    name: 'raw key as string',
    algorithm: 'ML-KEM-768',
    data: 'AAAA',
    format: 'raw',
    code: 'ERR_INVALID_ARGUMENT',
  },
  {
    name: 'DER passed as string',
    algorithm: 'ML-KEM-768',
    data: validPem,
    format: 'spki-der',
    code: 'ERR_INVALID_ARGUMENT',
  },
  {
    name: 'PEM passed as bytes',
    algorithm: 'ML-DSA-65',
    data: dsaSpki,
    format: 'spki-pem',
    code: 'ERR_INVALID_ARGUMENT',
  },
  {
    name: 'unknown format',
    algorithm: 'ML-DSA-65',
    data: dsaSpki,
    format: 'x509' as PublicKeyFormat,
    code: 'ERR_INVALID_ARGUMENT',
  },
  {
    name: 'PEM with PRIVATE KEY label',
    algorithm: 'ML-DSA-65',
    data: validPem.replaceAll('PUBLIC KEY', 'PRIVATE KEY'),
    format: 'spki-pem',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'PEM with RSA PUBLIC KEY label',
    algorithm: 'ML-DSA-65',
    data: validPem.replaceAll('PUBLIC KEY', 'RSA PUBLIC KEY'),
    format: 'spki-pem',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'PEM with mismatched END label',
    algorithm: 'ML-DSA-65',
    data: validPem.replace('END PUBLIC KEY', 'END PRIVATE KEY'),
    format: 'spki-pem',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'PEM with text before',
    algorithm: 'ML-DSA-65',
    data: `subject=CN=test\n${validPem}`,
    format: 'spki-pem',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'PEM with text after',
    algorithm: 'ML-DSA-65',
    data: `${validPem}trailer\n`,
    format: 'spki-pem',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'PEM without END line',
    algorithm: 'ML-DSA-65',
    data: validPem.split('\n').slice(0, -2).join('\n'),
    format: 'spki-pem',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'PEM with two blocks',
    algorithm: 'ML-DSA-65',
    data: validPem + validPem,
    format: 'spki-pem',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'PEM with a header line',
    algorithm: 'ML-DSA-65',
    data: [
      '-----BEGIN PUBLIC KEY-----',
      'Proc-Type: 4,ENCRYPTED',
      ...pemBody,
      '-----END PUBLIC KEY-----',
    ].join('\n'),
    format: 'spki-pem',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'PEM with a blank body line',
    algorithm: 'ML-DSA-65',
    data: [
      '-----BEGIN PUBLIC KEY-----',
      pemBody[0],
      '',
      ...pemBody.slice(1),
      '-----END PUBLIC KEY-----',
    ].join('\n'),
    format: 'spki-pem',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'PEM with a space in the body',
    algorithm: 'ML-DSA-65',
    data: [
      '-----BEGIN PUBLIC KEY-----',
      ` ${pemBody[0]}`,
      ...pemBody.slice(1),
      '-----END PUBLIC KEY-----',
    ].join('\n'),
    format: 'spki-pem',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'PEM with a non-base64 character',
    algorithm: 'ML-DSA-65',
    data: validPem.replace(pemBody[1]!, `*${pemBody[1]!.slice(1)}`),
    format: 'spki-pem',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'PEM without a body',
    algorithm: 'ML-DSA-65',
    data: '-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n',
    format: 'spki-pem',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'base64 without padding',
    algorithm: 'ML-DSA-65',
    data: validBase64.replace(/=+$/, ''),
    format: 'base64',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'base64 with a line break',
    algorithm: 'ML-DSA-65',
    data: `${validBase64.slice(0, 64)}\n${validBase64.slice(64)}`,
    format: 'base64',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'base64url alphabet in base64',
    algorithm: 'ML-DSA-65',
    data: Buffer.from(dsa.publicKey).toString('base64url'),
    format: 'base64',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'base64 of the wrong length',
    algorithm: 'ML-DSA-65',
    data: Buffer.from(dsa.publicKey.subarray(3)).toString('base64'),
    format: 'base64',
    code: 'ERR_INVALID_LENGTH',
  },
  {
    name: 'JWK with kty OKP',
    algorithm: 'ML-DSA-65',
    data: { ...validJwk, kty: 'OKP' } as never,
    format: 'jwk',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'JWK for another algorithm',
    algorithm: 'ML-DSA-65',
    data: { ...validJwk, alg: 'ML-DSA-87' } as never,
    format: 'jwk',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'JWK without alg',
    algorithm: 'ML-DSA-65',
    data: { kty: 'AKP', pub: validJwk.pub } as never,
    format: 'jwk',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'JWK with numeric pub',
    algorithm: 'ML-DSA-65',
    data: { ...validJwk, pub: 7 } as never,
    format: 'jwk',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'JWK pub with padding',
    algorithm: 'ML-DSA-65',
    data: { ...validJwk, pub: `${validJwk.pub}=` },
    format: 'jwk',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'JWK pub in base64 alphabet',
    algorithm: 'ML-DSA-65',
    data: { ...validJwk, pub: validBase64.replace(/=+$/, '') },
    format: 'jwk',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'JWK pub of wrong length',
    algorithm: 'ML-DSA-65',
    data: { ...validJwk, pub: validJwk.pub.slice(4) },
    format: 'jwk',
    code: 'ERR_INVALID_LENGTH',
  },
  {
    name: 'public JWK with priv',
    algorithm: 'ML-DSA-65',
    data: exportPrivateKey('ML-DSA-65', dsa, 'jwk'),
    format: 'jwk',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'JWK text that is not JSON',
    algorithm: 'ML-DSA-65',
    data: '{"kty":"AKP",',
    format: 'jwk',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'JWK that is an array',
    algorithm: 'ML-DSA-65',
    data: '[]',
    format: 'jwk',
    code: 'ERR_INVALID_ENCODING',
  },
];

describe('importPublicKey rejects malformed input', () => {
  it.each(PUBLIC_CASES)('$name', ({ algorithm, data, format, code }) => {
    expect(() => importPublicKey(algorithm, data, format)).toThrow(
      expect.objectContaining({ code }),
    );
  });

  it('accepts CRLF line ends and no final newline in PEM', () => {
    const crlf = validPem.trimEnd().replaceAll('\n', '\r\n');

    expect(Buffer.from(importPublicKey('ML-DSA-65', crlf, 'spki-pem'))).toEqual(
      Buffer.from(dsa.publicKey),
    );
  });

  it('names the found algorithm in the message', () => {
    expect(() => importPublicKey('ML-KEM-768', dsaSpki, 'spki-der')).toThrow(/ML-DSA-65/);
  });

  it('accepts a valid ML-KEM SPKI', () => {
    expect(Buffer.from(importPublicKey('ML-KEM-768', kemSpki, 'spki-der'))).toEqual(
      Buffer.from(kem.publicKey),
    );
  });
});

describe('whitespace in base64 public keys', () => {
  it('accepts a trailing newline', () => {
    const imported = importPublicKey('ML-DSA-65', `${validBase64}\n`, 'base64');
    expect(Buffer.from(imported)).toEqual(Buffer.from(dsa.publicKey));
  });

  it('accepts surrounding spaces and CRLF', () => {
    const imported = importPublicKey('ML-DSA-65', `  ${validBase64}\r\n`, 'base64');
    expect(Buffer.from(imported)).toEqual(Buffer.from(dsa.publicKey));
  });

  it('names the position of inner whitespace', () => {
    const broken = `\t${validBase64.slice(0, 64)}\n${validBase64.slice(64)}`;
    expect(() => importPublicKey('ML-DSA-65', broken, 'base64')).toThrow(
      'invalid base64 public key: whitespace (code 10) at position 65; remove spaces and ' +
        'line breaks, because the base64 text must be one unbroken string',
    );
  });

  it('rejects a newline in a JWK pub', () => {
    const jwk = { ...validJwk, pub: `${validJwk.pub}\n` };
    expect(() => importPublicKey('ML-DSA-65', jwk, 'jwk')).toThrow(
      new RegExp(`whitespace \\(code 10\\) at position ${validJwk.pub.length};`),
    );
  });
});

describe('ML-KEM modulus check', () => {
  const lastCoefficient = 256 * 3 - 1;
  const cases = [
    ['first coefficient 3329', 0, 3329],
    ['second coefficient 4095', 1, 4095],
    ['last coefficient 3329', lastCoefficient, 3329],
  ] as const;

  it.each(cases)('rejects %s in every format', (_name, index, value) => {
    const publicKey = withCoefficient(kem.publicKey, index, value);

    expect(() => checkMlKemPublicKeyModulus('ML-KEM-768', publicKey)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_PUBLIC_KEY' }),
    );
    expect(() => importPublicKey('ML-KEM-768', spki('ML-KEM-768', publicKey), 'spki-der')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_PUBLIC_KEY' }),
    );
    expect(() => importPublicKey('ML-KEM-768', publicKey, 'raw')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_PUBLIC_KEY' }),
    );
    expect(() => exportPublicKey('ML-KEM-768', publicKey, 'spki-der')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_PUBLIC_KEY' }),
    );
  });

  it('accepts coefficients of 3328', () => {
    const publicKey = withCoefficient(
      withCoefficient(kem.publicKey, 0, 3328),
      lastCoefficient,
      3328,
    );

    expect(() => checkMlKemPublicKeyModulus('ML-KEM-768', publicKey)).not.toThrow();
  });

  it('rejects an ML-DSA algorithm', () => {
    expect(() => checkMlKemPublicKeyModulus('ML-DSA-65', dsa.publicKey)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('rejects a key of the wrong length', () => {
    expect(() => checkMlKemPublicKeyModulus('ML-KEM-512', kem.publicKey)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_LENGTH' }),
    );
  });
});

interface PrivateCase {
  name: string;
  algorithm: 'ML-KEM-768' | 'ML-DSA-65';
  data: EncodedPrivateKey;
  format: PrivateKeyFormat;
  code: string;
}

const dsaSeedChoice = tlv(0x80, dsa.seed);
const dsaPem = exportPrivateKey('ML-DSA-65', dsa, 'pkcs8-pem');
const dsaJwk = exportPrivateKey('ML-DSA-65', dsa, 'jwk');

function pkcs8WithVersion(versionContent: Uint8Array, ...rest: Uint8Array[]): Uint8Array {
  return tlv(
    0x30,
    tlv(0x02, versionContent),
    algorithmIdentifier('ML-DSA-65'),
    tlv(0x04, dsaSeedChoice),
    ...rest,
  );
}

const PRIVATE_CASES: PrivateCase[] = [
  {
    name: 'version 2',
    algorithm: 'ML-DSA-65',
    data: pkcs8WithVersion(Uint8Array.of(2)),
    format: 'pkcs8-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'negative version',
    algorithm: 'ML-DSA-65',
    data: pkcs8WithVersion(Uint8Array.of(0xff)),
    format: 'pkcs8-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'non-minimal version',
    algorithm: 'ML-DSA-65',
    data: pkcs8WithVersion(Uint8Array.of(0, 0)),
    format: 'pkcs8-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'empty version',
    algorithm: 'ML-DSA-65',
    data: pkcs8WithVersion(new Uint8Array(0)),
    format: 'pkcs8-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'publicKey field in version 1',
    algorithm: 'ML-DSA-65',
    data: pkcs8WithVersion(Uint8Array.of(0), tlv(0x81, Uint8Array.of(0), dsa.publicKey)),
    format: 'pkcs8-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'publicKey field of wrong length',
    algorithm: 'ML-DSA-65',
    data: pkcs8WithVersion(
      Uint8Array.of(1),
      tlv(0x81, Uint8Array.of(0), dsa.publicKey.subarray(1)),
    ),
    format: 'pkcs8-der',
    code: 'ERR_INVALID_LENGTH',
  },
  {
    name: 'unknown trailing field',
    algorithm: 'ML-DSA-65',
    data: pkcs8WithVersion(Uint8Array.of(0), tlv(0x05)),
    format: 'pkcs8-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'trailing byte',
    algorithm: 'ML-DSA-65',
    data: concat(pkcs8('ML-DSA-65', dsaSeedChoice), Uint8Array.of(0)),
    format: 'pkcs8-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'ML-KEM OID on an ML-DSA seed',
    algorithm: 'ML-DSA-65',
    data: pkcs8('ML-KEM-768', dsaSeedChoice),
    format: 'pkcs8-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'seed one byte short',
    algorithm: 'ML-DSA-65',
    data: pkcs8('ML-DSA-65', tlv(0x80, dsa.seed.subarray(1))),
    format: 'pkcs8-der',
    code: 'ERR_INVALID_LENGTH',
  },
  {
    name: 'ML-KEM seed of 32 bytes',
    algorithm: 'ML-KEM-768',
    data: pkcs8('ML-KEM-768', tlv(0x80, kem.seed.subarray(32))),
    format: 'pkcs8-der',
    code: 'ERR_INVALID_LENGTH',
  },
  {
    name: 'expanded key one byte short',
    algorithm: 'ML-DSA-65',
    data: pkcs8('ML-DSA-65', tlv(0x04, dsa.secretKey.subarray(1))),
    format: 'pkcs8-der',
    code: 'ERR_INVALID_LENGTH',
  },
  {
    name: 'bare seed without CHOICE tag',
    algorithm: 'ML-DSA-65',
    data: pkcs8('ML-DSA-65', dsa.seed),
    format: 'pkcs8-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'constructed [0] seed',
    algorithm: 'ML-DSA-65',
    data: pkcs8('ML-DSA-65', tlv(0xa0, tlv(0x04, dsa.seed))),
    format: 'pkcs8-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'bytes after the CHOICE',
    algorithm: 'ML-DSA-65',
    data: pkcs8('ML-DSA-65', concat(dsaSeedChoice, Uint8Array.of(0x05, 0x00))),
    format: 'pkcs8-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'both with a [0] seed',
    algorithm: 'ML-DSA-65',
    data: pkcs8('ML-DSA-65', tlv(0x30, tlv(0x80, dsa.seed), tlv(0x04, dsa.secretKey))),
    format: 'pkcs8-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'both with a third element',
    algorithm: 'ML-DSA-65',
    data: pkcs8('ML-DSA-65', tlv(0x30, tlv(0x04, dsa.seed), tlv(0x04, dsa.secretKey), tlv(0x05))),
    format: 'pkcs8-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'both without expandedKey',
    algorithm: 'ML-DSA-65',
    data: pkcs8('ML-DSA-65', tlv(0x30, tlv(0x04, dsa.seed))),
    format: 'pkcs8-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'SPKI passed as PKCS#8',
    algorithm: 'ML-DSA-65',
    data: dsaSpki,
    format: 'pkcs8-der',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'PEM with PUBLIC KEY label',
    algorithm: 'ML-DSA-65',
    data: dsaPem.replaceAll('PRIVATE KEY', 'PUBLIC KEY'),
    format: 'pkcs8-pem',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'PEM with ENCRYPTED PRIVATE KEY label',
    algorithm: 'ML-DSA-65',
    data: dsaPem.replaceAll('PRIVATE KEY', 'ENCRYPTED PRIVATE KEY'),
    format: 'pkcs8-pem',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'PEM with broken base64',
    algorithm: 'ML-DSA-65',
    data: dsaPem.replace('\n', '\n!'),
    format: 'pkcs8-pem',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'private JWK without priv',
    algorithm: 'ML-DSA-65',
    data: { kty: 'AKP', alg: 'ML-DSA-65', pub: dsaJwk.pub } as never,
    format: 'jwk',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'private JWK with short priv',
    algorithm: 'ML-DSA-65',
    data: { ...dsaJwk, priv: dsaJwk.priv.slice(4) },
    format: 'jwk',
    code: 'ERR_INVALID_LENGTH',
  },
  {
    name: 'private JWK with non-canonical priv',
    algorithm: 'ML-DSA-65',
    data: {
      ...dsaJwk,
      priv: `${dsaJwk.priv.slice(0, -1)}${dsaJwk.priv.endsWith('B') ? 'C' : 'B'}`,
    },
    format: 'jwk',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'private JWK for ML-KEM as ML-DSA',
    algorithm: 'ML-DSA-65',
    data: exportPrivateKey('ML-KEM-768', kem, 'jwk'),
    format: 'jwk',
    code: 'ERR_INVALID_ENCODING',
  },
  {
    name: 'unknown format',
    algorithm: 'ML-DSA-65',
    data: dsaPem,
    format: 'pem' as PrivateKeyFormat,
    code: 'ERR_INVALID_ARGUMENT',
  },
];

describe('importPrivateKey rejects malformed input', () => {
  it.each(PRIVATE_CASES)('$name', ({ algorithm, data, format, code }) => {
    const derive = algorithm === 'ML-DSA-65' ? dsaKeygen : kemKeygen;

    expect(() => importPrivateKey(algorithm, data, format, derive)).toThrow(
      expect.objectContaining({ code }),
    );
  });

  it('accepts attributes in PKCS#8', () => {
    const attributes = tlv(
      0xa0,
      tlv(0x30, tlv(0x06, hexBytes('2a864886f70d010914')), tlv(0x31, tlv(0x1e, hexBytes('0061')))),
    );
    const imported = importPrivateKey(
      'ML-DSA-65',
      pkcs8WithVersion(Uint8Array.of(0), attributes),
      'pkcs8-der',
      dsaKeygen,
    );

    expect(Buffer.from(imported.publicKey)).toEqual(Buffer.from(dsa.publicKey));
  });

  it('names the length in the message', () => {
    const data = pkcs8('ML-DSA-65', tlv(0x80, dsa.seed.subarray(1)));

    expect(() => importPrivateKey('ML-DSA-65', data, 'pkcs8-der', dsaKeygen)).toThrow(
      'seed must be 32 bytes for ML-DSA-65, got 31',
    );
  });

  it('keeps key bytes out of messages', () => {
    const seedHex = Buffer.from(otherDsa.seed).toString('hex');
    const data = pkcs8('ML-DSA-65', tlv(0x30, tlv(0x04, otherDsa.seed), tlv(0x04, dsa.secretKey)));

    expect(() => importPrivateKey('ML-DSA-65', data, 'pkcs8-der', dsaKeygen)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_PRIVATE_KEY' }),
    );
    try {
      importPrivateKey('ML-DSA-65', data, 'pkcs8-der', dsaKeygen);
    } catch (error) {
      expect(String((error as Error).message)).not.toContain(seedHex.slice(0, 16));
    }
  });
});
