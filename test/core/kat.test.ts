// Regenerates liboqs's known-answer output (tests/kat_kem.c and tests/kat_sig.c of liboqs
// 0.13.0) through the public API and compares its SHA-256 with the digests liboqs ships.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPqc } from '../../src/index.js';
import type { KemAlgorithm, PqcInstance, SignatureAlgorithm } from '../../src/index.js';
import { NistDrbg } from '../helpers/nist-drbg.js';

const digests = JSON.parse(
  readFileSync(new URL('../vectors/liboqs-kats.json', import.meta.url), 'utf8'),
) as Record<string, { all: string; single: string }>;

const upperHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex').toUpperCase();
const INITIAL_ENTROPY = Uint8Array.from({ length: 48 }, (_, i) => i);
const KAT_COUNT = 100;

let pqc: PqcInstance;
beforeAll(async () => {
  pqc = await loadPqc();
});

function kemKat(name: KemAlgorithm, count: number): string {
  const kem = pqc.kem(name);
  const outer = new NistDrbg(INITIAL_ENTROPY);
  const records: string[] = [];
  for (let i = 0; i < count; i++) {
    const seed = outer.read(48);
    const inner = new NistDrbg(seed);
    const keys = kem.keygen(inner.read(64));
    const { ciphertext, sharedSecret } = kem.encapsulate(keys.publicKey, inner.read(32));
    expect(kem.decapsulate(ciphertext, keys.secretKey)).toEqual(sharedSecret);
    records.push(
      `count = ${i}\nseed = ${upperHex(seed)}\npk = ${upperHex(keys.publicKey)}\n` +
        `sk = ${upperHex(keys.secretKey)}\nct = ${upperHex(ciphertext)}\nss = ${upperHex(sharedSecret)}\n`,
    );
  }
  return records.join('\n');
}

function signatureKat(name: SignatureAlgorithm, count: number): string {
  const dsa = pqc.signature(name);
  const outer = new NistDrbg(INITIAL_ENTROPY);
  const records: string[] = [];
  for (let i = 0; i < count; i++) {
    const seed = outer.read(48);
    const message = outer.read(33 * (i + 1));
    const inner = new NistDrbg(seed);
    const keys = dsa.keygen(inner.read(32));
    const signature = dsa.sign(message, keys.secretKey, { randomness: inner.read(32) });
    expect(dsa.verify(message, signature, keys.publicKey)).toBe(true);
    const signedMessage = new Uint8Array([...signature, ...message]);
    records.push(
      `count = ${i}\nseed = ${upperHex(seed)}\nmlen = ${message.length}\nmsg = ${upperHex(message)}\n` +
        `pk = ${upperHex(keys.publicKey)}\nsk = ${upperHex(keys.secretKey)}\n` +
        `smlen = ${signedMessage.length}\nsm = ${upperHex(signedMessage)}\n`,
    );
  }
  return records.join('\n');
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('liboqs known-answer tests', () => {
  for (const name of ['ML-KEM-512', 'ML-KEM-768', 'ML-KEM-1024'] as const) {
    it(`${name} matches the single and full KAT digests`, () => {
      expect(sha256(kemKat(name, 1))).toBe(digests[name]!.single);
      expect(sha256(kemKat(name, KAT_COUNT))).toBe(digests[name]!.all);
    });
  }
  for (const name of ['ML-DSA-44', 'ML-DSA-65', 'ML-DSA-87'] as const) {
    it(`${name} matches the single and full KAT digests`, () => {
      expect(sha256(signatureKat(name, 1))).toBe(digests[name]!.single);
      expect(sha256(signatureKat(name, KAT_COUNT))).toBe(digests[name]!.all);
    });
  }
});
