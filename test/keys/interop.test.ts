import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem1024, ml_kem512, ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { describe, expect, it } from 'vitest';
import { fingerprintPublicKey } from '../../src/keys/fingerprint.js';
import { exportPrivateKey, importPrivateKey } from '../../src/keys/index.js';
import { exportPublicKey, importPublicKey } from '../../src/keys/public-key.js';
import type { KeyAlgorithm } from '../../src/keys/algorithms.js';
import { ALGORITHMS, keygenFor } from './core.js';
import { toHex } from './vectors.js';

const NOBLE = {
  'ML-KEM-512': ml_kem512,
  'ML-KEM-768': ml_kem768,
  'ML-KEM-1024': ml_kem1024,
  'ML-DSA-44': ml_dsa44,
  'ML-DSA-65': ml_dsa65,
  'ML-DSA-87': ml_dsa87,
} as const;

function seedLength(algorithm: KeyAlgorithm): number {
  return algorithm.startsWith('ML-KEM') ? 64 : 32;
}

describe.each(ALGORITHMS)('%s against @noble/post-quantum', (algorithm) => {
  const keygen = keygenFor(algorithm);
  const seed = randomBytes(seedLength(algorithm));
  const ours = keygen(seed);
  const noble = NOBLE[algorithm].keygen(Uint8Array.from(seed));

  it('derives identical raw keys from one seed', () => {
    expect(toHex(noble.publicKey)).toBe(toHex(ours.publicKey));
    expect(toHex(noble.secretKey)).toBe(toHex(ours.secretKey));
  });

  it('gives identical fingerprints', () => {
    expect(fingerprintPublicKey(algorithm, noble.publicKey)).toBe(
      fingerprintPublicKey(algorithm, ours.publicKey),
    );
  });

  it('imports the noble expanded key', () => {
    const der = exportPrivateKey(
      algorithm,
      { secretKey: noble.secretKey, publicKey: noble.publicKey },
      'pkcs8-der',
      { form: 'expandedKey', includePublicKey: true },
    );
    const imported = importPrivateKey(algorithm, der, 'pkcs8-der', keygen);

    expect(toHex(imported.publicKey)).toBe(toHex(ours.publicKey));
  });
});

const PYCA_ALGORITHMS: KeyAlgorithm[] = [
  'ML-KEM-768',
  'ML-KEM-1024',
  'ML-DSA-44',
  'ML-DSA-65',
  'ML-DSA-87',
];
const pycaScript = fileURLToPath(new URL('./interop/pyca_keys.py', import.meta.url));
const hasPyca =
  spawnSync('python3', ['-c', 'from cryptography.hazmat.primitives.asymmetric import mldsa, mlkem'])
    .status === 0;

describe.skipIf(!hasPyca)('pyca/cryptography (python3) interop', () => {
  const keys = PYCA_ALGORITHMS.map((algorithm) => {
    const pair = keygenFor(algorithm)(randomBytes(seedLength(algorithm)));
    return {
      algorithm,
      pair,
      request: {
        algorithm,
        seed: toHex(pair.seed),
        pkcs8Pem: exportPrivateKey(algorithm, pair, 'pkcs8-pem'),
        spkiPem: exportPublicKey(algorithm, pair.publicKey, 'spki-pem'),
      },
    };
  });

  function runPyca(): Record<string, Record<string, string>> {
    const result = spawnSync('python3', [pycaScript], {
      input: JSON.stringify(keys.map((key) => key.request)),
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    return JSON.parse(result.stdout) as Record<string, Record<string, string>>;
  }

  it('writes byte-identical seed PKCS#8 and SPKI', () => {
    const output = runPyca();

    for (const { algorithm, request } of keys) {
      expect(output[algorithm]!['pkcs8Pem'], algorithm).toBe(request.pkcs8Pem);
      expect(output[algorithm]!['spkiPem'], algorithm).toBe(request.spkiPem);
    }
  });

  it('reads our keys and we read its keys', () => {
    const output = runPyca();

    for (const { algorithm, pair } of keys) {
      const theirs = output[algorithm]!;
      const imported = importPrivateKey(
        algorithm,
        theirs['pkcs8Pem']!,
        'pkcs8-pem',
        keygenFor(algorithm),
      );

      expect(theirs['publicKeyFromPkcs8'], algorithm).toBe(toHex(pair.publicKey));
      expect(theirs['publicKeyFromSpki'], algorithm).toBe(toHex(pair.publicKey));
      expect(toHex(imported.publicKey), algorithm).toBe(toHex(pair.publicKey));
      expect(toHex(importPublicKey(algorithm, theirs['spkiPem']!, 'spki-pem')), algorithm).toBe(
        toHex(pair.publicKey),
      );
    }
  });
});

const goProgram = fileURLToPath(new URL('./interop/go_mlkem.go', import.meta.url));
const goMinor = /go1\.(\d+)/.exec(spawnSync('go', ['version'], { encoding: 'utf8' }).stdout ?? '');
const hasGoMlKem = goMinor !== null && Number(goMinor[1]) >= 24;

describe.skipIf(!hasGoMlKem)('Go crypto/mlkem interop', () => {
  it('derives identical encapsulation keys from our seeds', () => {
    const pairs = (['ML-KEM-768', 'ML-KEM-1024'] as const).map((algorithm) => {
      const pair = keygenFor(algorithm)(randomBytes(64));
      const der = exportPrivateKey(algorithm, pair, 'pkcs8-der');
      return {
        algorithm,
        pair,
        seed: importPrivateKey(algorithm, der, 'pkcs8-der', keygenFor(algorithm)).seed!,
      };
    });
    const input = Object.fromEntries(pairs.map(({ algorithm, seed }) => [algorithm, toHex(seed)]));

    const result = spawnSync('go', ['run', goProgram], {
      input: JSON.stringify(input),
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const keys = JSON.parse(result.stdout) as Record<string, string>;

    for (const { algorithm, pair } of pairs) {
      expect(keys[algorithm], algorithm).toBe(toHex(pair.publicKey));
    }
  });
});

/** `generateKeyPairSync` for key types that the Node 20 type definitions do not list. */
const generateKeyPair = generateKeyPairSync as unknown as (type: string) => {
  publicKey: KeyObject;
  privateKey: KeyObject;
};

function nodeSupportsMlDsa(): boolean {
  try {
    generateKeyPair('ml-dsa-44');
    return true;
  } catch {
    return false;
  }
}

// NOTE: Node 20 has no ML-DSA or ML-KEM key objects, so these tests are skipped there. They have
// not run yet, because only Node 20 was available when they were written.
describe.skipIf(!nodeSupportsMlDsa())('Node crypto interop', () => {
  it.each(['ML-DSA-65', 'ML-KEM-768'] as const)('%s PKCS#8 and SPKI both ways', (algorithm) => {
    const pair = keygenFor(algorithm)(randomBytes(seedLength(algorithm)));
    const ourPkcs8 = exportPrivateKey(algorithm, pair, 'pkcs8-der');
    const nodeKey = createPrivateKey({ key: Buffer.from(ourPkcs8), format: 'der', type: 'pkcs8' });
    const nodeSpki = createPublicKey(nodeKey).export({ format: 'der', type: 'spki' });

    expect(toHex(nodeSpki)).toBe(toHex(exportPublicKey(algorithm, pair.publicKey, 'spki-der')));

    const generated = generateKeyPair(algorithm.toLowerCase());
    const nodePkcs8 = generated.privateKey.export({ format: 'der', type: 'pkcs8' });
    const nodePublic = generated.publicKey.export({ format: 'der', type: 'spki' });
    const imported = importPrivateKey(
      algorithm,
      Uint8Array.from(nodePkcs8),
      'pkcs8-der',
      keygenFor(algorithm),
    );

    expect(toHex(exportPublicKey(algorithm, imported.publicKey, 'spki-der'))).toBe(
      toHex(nodePublic),
    );
  });
});
