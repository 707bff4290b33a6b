// The pool's key import, export and check methods must give what the in-thread core gives: the
// same encodings, the same imported keys and the same errors, for every parameter set.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  InvalidPrivateKeyError,
  isPqcError,
  KEM_ALGORITHMS,
  loadPqc,
  PRIVATE_KEY_FORMS,
  PUBLIC_KEY_FORMATS,
  SIGNATURE_ALGORITHMS,
} from '../../src/index.js';
import type {
  EncodedPrivateKey,
  ImportedPrivateKey,
  KeyPair,
  PqcInstance,
  PrivateKeyFormat,
} from '../../src/index.js';
import type { MlKem } from '../../src/core/kem.js';
import type { MlDsa } from '../../src/core/signature.js';
import { AbortError, PoolClosedError } from '../../src/pool/index.js';
import type { PooledKeyEncoding, PqcPool } from '../../src/pool/index.js';
import { pkcs8, spki, tlv } from '../keys/der-builder.js';
import { pattern, rejectionOf, SLOW_MESSAGE_LENGTH, startPool } from './helpers.js';

type Algorithm = (typeof KEM_ALGORITHMS)[number] | (typeof SIGNATURE_ALGORITHMS)[number];
const ALGORITHMS: readonly Algorithm[] = [...KEM_ALGORITHMS, ...SIGNATURE_ALGORITHMS];

/** Another parameter set of the same family, whose OID is wrong for `name`. */
const SIBLING: Record<Algorithm, Algorithm> = {
  'ML-KEM-512': 'ML-KEM-768',
  'ML-KEM-768': 'ML-KEM-1024',
  'ML-KEM-1024': 'ML-KEM-512',
  'ML-DSA-44': 'ML-DSA-65',
  'ML-DSA-65': 'ML-DSA-87',
  'ML-DSA-87': 'ML-DSA-44',
};

let pool: PqcPool;
let pqc: PqcInstance;

beforeAll(async () => {
  [pool, pqc] = await Promise.all([startPool({ size: 2 }), loadPqc()]);
});

afterAll(async () => {
  await pool?.close();
});

function isKem(name: Algorithm): name is (typeof KEM_ALGORITHMS)[number] {
  return name.startsWith('ML-KEM');
}

function coreOf(name: Algorithm): MlKem | MlDsa {
  return isKem(name) ? pqc.kem(name) : pqc.signature(name);
}

function pooledOf(target: PqcPool, name: Algorithm): PooledKeyEncoding {
  return isKem(name) ? target.kem(name) : target.signature(name);
}

function seedLengthOf(name: Algorithm): number {
  return isKem(name) ? 64 : 32;
}

/** Returns the error `run` throws; fails the test if it returns. */
function thrownBy(run: () => unknown, label: string): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error(`expected the core to throw for ${label}`);
}

/** Asserts that the pooled call rejects with the class, code and message the core throws. */
async function expectSameError(
  label: string,
  inThread: () => unknown,
  pooled: () => Promise<unknown>,
): Promise<string> {
  const expected = thrownBy(inThread, label);
  const error = await rejectionOf(pooled());
  expect(isPqcError(expected), label).toBe(true);
  expect(error.constructor, label).toBe(expected.constructor);
  expect(error.name, label).toBe(expected.name);
  expect((error as { code?: string }).code, label).toBe((expected as { code?: string }).code);
  expect(error.message, label).toBe(expected.message);
  return (error as { code?: string }).code ?? '';
}

function expectSameImport(actual: ImportedPrivateKey, expected: ImportedPrivateKey, label: string) {
  expect(actual.publicKey, label).toEqual(expected.publicKey);
  expect(actual.secretKey, label).toEqual(expected.secretKey);
  expect(actual.seed, label).toEqual(expected.seed);
  expect('seed' in actual, label).toBe('seed' in expected);
}

/** Replaces the first occurrence of `from` in `data` with `to`, which has the same length. */
function replaceBytes(data: Uint8Array, from: Uint8Array, to: Uint8Array): Uint8Array {
  const index = Buffer.from(data).indexOf(Buffer.from(from));
  expect(index).toBeGreaterThanOrEqual(0);
  const copy = data.slice();
  copy.set(to, index);
  return copy;
}

function withTrailingByte(data: Uint8Array): Uint8Array {
  return Uint8Array.from([...data, 0]);
}

/** Re-packs coefficient 0 of an ML-KEM public key as q = 3329, which the modulus check rejects. */
function withCoefficientQ(publicKey: Uint8Array): Uint8Array {
  const copy = publicKey.slice();
  copy[0] = 3329 & 0xff;
  copy[1] = (copy[1]! & 0xf0) | (3329 >> 8);
  return copy;
}

describe.each(ALGORITHMS)('%s key methods in the pool', (name) => {
  let keys: KeyPair;
  let other: KeyPair;

  beforeAll(() => {
    keys = coreOf(name).keygen(pattern(seedLengthOf(name), 3));
    other = coreOf(name).keygen(pattern(seedLengthOf(name), 90));
  });

  it('public key formats match the core', async () => {
    const core = coreOf(name);
    const pooled = pooledOf(pool, name);

    for (const format of PUBLIC_KEY_FORMATS) {
      const expected = core.exportPublicKey(keys.publicKey, format);
      const exported = await pooled.exportPublicKey(keys.publicKey, format);
      expect(exported, format).toEqual(expected);

      const imported = await pooled.importPublicKey(expected, format);
      expect(imported, format).toEqual(core.importPublicKey(expected, format));
      expect(imported, format).toEqual(keys.publicKey);
    }
    const text = JSON.stringify(core.exportPublicKey(keys.publicKey, 'jwk'));
    expect(await pooled.importPublicKey(text, 'jwk')).toEqual(keys.publicKey);
  });

  it('fingerprint and checkPublicKey match the core', async () => {
    const core = coreOf(name);
    const pooled = pooledOf(pool, name);

    expect(await pooled.fingerprint(keys.publicKey)).toBe(core.fingerprint(keys.publicKey));
    expect(await pooled.fingerprint(other.publicKey)).toBe(core.fingerprint(other.publicKey));
    expect(await pooled.fingerprint(keys.publicKey)).not.toBe(core.fingerprint(other.publicKey));
    await expect(pooled.checkPublicKey(keys.publicKey)).resolves.toBeUndefined();
  });

  it('private key formats match the core', async () => {
    const core = coreOf(name);
    const pooled = pooledOf(pool, name);
    const cases: Array<[PrivateKeyFormat, (typeof PRIVATE_KEY_FORMS)[number], boolean]> = [];
    for (const format of ['pkcs8-der', 'pkcs8-pem'] as const) {
      for (const form of PRIVATE_KEY_FORMS) {
        cases.push([format, form, false], [format, form, true]);
      }
    }
    cases.push(['jwk', 'seed', false]);

    for (const [format, form, includePublicKey] of cases) {
      const label = `${format} ${form}${includePublicKey ? ' with publicKey' : ''}`;
      const options = format === 'jwk' ? {} : { form, includePublicKey };
      const expected = core.exportPrivateKey(keys, format, options);
      const exported = await pooled.exportPrivateKey(keys, format, options);
      expect(exported, label).toEqual(expected);

      // An ML-DSA expanded key alone does not contain the public key, so the import needs it.
      const needsPublicKey = !isKem(name) && form === 'expandedKey' && !includePublicKey;
      const importOptions = needsPublicKey ? { publicKey: keys.publicKey } : undefined;
      const imported = await pooled.importPrivateKey(expected, format, importOptions);
      expectSameImport(imported, core.importPrivateKey(expected, format, importOptions), label);
      expect(imported.secretKey, label).toEqual(keys.secretKey);
      expect(imported.publicKey, label).toEqual(keys.publicKey);
      expect(imported.seed, label).toEqual(form === 'expandedKey' ? undefined : keys.seed);
    }
  });

  it('import leaves the caller data intact', async () => {
    const pooled = pooledOf(pool, name);
    const der = coreOf(name).exportPrivateKey(keys, 'pkcs8-der', { form: 'both' });
    const copy = der.slice();

    const imported = await pooled.importPrivateKey(der, 'pkcs8-der', { transfer: true });

    expect(der.byteLength).toBe(copy.byteLength);
    expect(der).toEqual(copy);
    expect(imported.secretKey).toEqual(keys.secretKey);
  });

  it('malformed input rejects as in the core', async () => {
    const core = coreOf(name);
    const pooled = pooledOf(pool, name);
    const sibling = SIBLING[name];
    const spkiDer = core.exportPublicKey(keys.publicKey, 'spki-der');
    const spkiPem = core.exportPublicKey(keys.publicKey, 'spki-pem');
    const base64 = core.exportPublicKey(keys.publicKey, 'base64');
    const seedDer = core.exportPrivateKey(keys, 'pkcs8-der');
    const seedPem = core.exportPrivateKey(keys, 'pkcs8-pem');
    const jwk = core.exportPrivateKey(keys, 'jwk');
    const otherJwk = core.exportPublicKey(other.publicKey, 'jwk');
    const bothDer = core.exportPrivateKey(keys, 'pkcs8-der', { form: 'both' });
    const withPublicKey = core.exportPrivateKey(keys, 'pkcs8-der', { includePublicKey: true });
    const expandedDer = core.exportPrivateKey(keys, 'pkcs8-der', { form: 'expandedKey' });
    // A byte in the middle of the expanded key, inside s1 (ML-DSA) or the secret vector
    // (ML-KEM), which only key generation from the seed can show to be wrong.
    const flippedSecretKey = keys.secretKey.slice();
    flippedSecretKey[Math.floor(keys.secretKey.length / 3)]! ^= 0x01;
    const brokenPemBody = seedPem.replace(/\n(.)/, '\n*');

    const publicCases: Array<[string, unknown, string]> = [
      ['wrong OID in SPKI', spki(sibling, keys.publicKey), 'spki-der'],
      ['trailing byte after SPKI', withTrailingByte(spkiDer), 'spki-der'],
      ['PEM label PRIVATE KEY', spkiPem.replaceAll('PUBLIC KEY', 'PRIVATE KEY'), 'spki-pem'],
      ['private key PEM as public key', seedPem, 'spki-pem'],
      ['broken base64', `${base64.slice(0, 20)}*${base64.slice(21)}`, 'base64'],
      ['broken base64 in PEM', spkiPem.replace(/\n(.)/, '\n*'), 'spki-pem'],
      ['private JWK as public key', jwk, 'jwk'],
      ['raw key one byte short', keys.publicKey.subarray(1), 'raw'],
      ['unknown format', spkiDer, 'der'],
      ['string for spki-der', spkiPem, 'spki-der'],
    ];
    for (const [label, data, format] of publicCases) {
      await expectSameError(
        label,
        () => core.importPublicKey(data as never, format as never),
        () => pooled.importPublicKey(data as never, format as never),
      );
    }

    const privateCases: Array<[string, unknown, string, object | undefined]> = [
      ['wrong OID in PKCS#8', pkcs8(sibling, tlv(0x80, keys.seed)), 'pkcs8-der', undefined],
      ['trailing byte after PKCS#8', withTrailingByte(seedDer), 'pkcs8-der', undefined],
      [
        'PEM label PUBLIC KEY',
        seedPem.replaceAll('PRIVATE KEY', 'PUBLIC KEY'),
        'pkcs8-pem',
        undefined,
      ],
      ['public key PEM as private key', spkiPem, 'pkcs8-pem', undefined],
      ['broken base64 in PEM', brokenPemBody, 'pkcs8-pem', undefined],
      ['broken base64url in JWK', { ...jwk, priv: `*${jwk.priv.slice(1)}` }, 'jwk', undefined],
      ['JWK with the pub of another key', { ...jwk, pub: otherJwk.pub }, 'jwk', undefined],
      [
        'both form with the expanded key of another seed',
        replaceBytes(bothDer, keys.secretKey, other.secretKey),
        'pkcs8-der',
        undefined,
      ],
      [
        'both form with one expanded key byte changed',
        replaceBytes(bothDer, keys.secretKey, flippedSecretKey),
        'pkcs8-der',
        undefined,
      ],
      [
        'both form of another parameter set',
        pkcs8(sibling, tlv(0x30, tlv(0x04, keys.seed), tlv(0x04, keys.secretKey))),
        'pkcs8-der',
        undefined,
      ],
      [
        'v2 publicKey of another key',
        replaceBytes(withPublicKey, keys.publicKey, other.publicKey),
        'pkcs8-der',
        undefined,
      ],
      ['options.publicKey of another key', seedDer, 'pkcs8-der', { publicKey: other.publicKey }],
      [
        'expanded key with options.publicKey of another key',
        expandedDer,
        'pkcs8-der',
        { publicKey: other.publicKey },
      ],
      ['unknown format', seedDer, 'pkcs8', undefined],
      ['byte array for pkcs8-pem', seedDer, 'pkcs8-pem', undefined],
    ];
    if (!isKem(name)) {
      privateCases.push(['expanded key without a public key', expandedDer, 'pkcs8-der', undefined]);
    }
    for (const [label, data, format, options] of privateCases) {
      const code = await expectSameError(
        label,
        () => core.importPrivateKey(data as EncodedPrivateKey, format as never, options),
        () => pooled.importPrivateKey(data as EncodedPrivateKey, format as never, options),
      );
      if (label.startsWith('both form with')) {
        expect(code, label).toBe('ERR_INVALID_PRIVATE_KEY');
      }
    }

    const mixed = { seed: keys.seed, secretKey: other.secretKey };
    await expectSameError(
      'export of a seed and another secret key',
      () => core.exportPrivateKey(mixed, 'pkcs8-der', { form: 'both' }),
      () => pooled.exportPrivateKey(mixed, 'pkcs8-der', { form: 'both' }),
    );
    const withoutSeed = { secretKey: keys.secretKey, publicKey: keys.publicKey };
    await expectSameError(
      'export of a JWK without a seed',
      () => core.exportPrivateKey(withoutSeed, 'jwk'),
      () => pooled.exportPrivateKey(withoutSeed, 'jwk'),
    );

    const badKeys: Array<[string, Uint8Array]> = [
      ['public key one byte short', keys.publicKey.subarray(1)],
      ['public key one byte long', withTrailingByte(keys.publicKey)],
    ];
    if (isKem(name)) badKeys.push(['coefficient equal to q', withCoefficientQ(keys.publicKey)]);
    for (const [label, publicKey] of badKeys) {
      await expectSameError(
        `checkPublicKey: ${label}`,
        () => core.checkPublicKey(publicKey),
        () => pooled.checkPublicKey(publicKey),
      );
      await expectSameError(
        `fingerprint: ${label}`,
        () => core.fingerprint(publicKey),
        () => pooled.fingerprint(publicKey),
      );
      await expectSameError(
        `exportPublicKey: ${label}`,
        () => core.exportPublicKey(publicKey, 'spki-der'),
        () => pooled.exportPublicKey(publicKey, 'spki-der'),
      );
    }
    await expectSameError(
      'checkPublicKey: string',
      () => core.checkPublicKey('key' as never),
      () => pooled.checkPublicKey('key' as never),
    );
  });
});

describe('key methods when aborted or closed', () => {
  const pools: PqcPool[] = [];
  const name = 'ML-DSA-65';
  let keys: KeyPair;

  beforeAll(() => {
    keys = pqc.signature(name).keygen(pattern(32, 5));
  });

  afterEach(async () => {
    await Promise.all(pools.splice(0).map((opened) => opened.terminate()));
  });

  async function openPool(size: number): Promise<PqcPool> {
    const opened = await startPool({ size });
    pools.push(opened);
    return opened;
  }

  /** Every key method of `pooled`, called with `options`. */
  function keyCalls(
    pooled: PooledKeyEncoding,
    options: { signal?: AbortSignal; transfer?: boolean },
  ): Array<[string, () => Promise<unknown>]> {
    const core = pqc.signature(name);
    const der = core.exportPrivateKey(keys, 'pkcs8-der');
    const expanded = core.exportPrivateKey(keys, 'pkcs8-der', {
      form: 'expandedKey',
      includePublicKey: true,
    });
    const spkiDer = core.exportPublicKey(keys.publicKey, 'spki-der');
    return [
      ['exportPublicKey', () => pooled.exportPublicKey(keys.publicKey, 'spki-der', options)],
      ['importPublicKey', () => pooled.importPublicKey(spkiDer, 'spki-der', options)],
      ['exportPrivateKey', () => pooled.exportPrivateKey(keys, 'pkcs8-der', options)],
      ['importPrivateKey seed', () => pooled.importPrivateKey(der, 'pkcs8-der', options)],
      ['importPrivateKey expanded', () => pooled.importPrivateKey(expanded, 'pkcs8-der', options)],
      ['fingerprint', () => pooled.fingerprint(keys.publicKey, options)],
      ['checkPublicKey', () => pooled.checkPublicKey(keys.publicKey, options)],
    ];
  }

  it('fired signal rejects every method', async () => {
    const reason = new Error('caller gave up');
    const calls = keyCalls(pool.signature(name), { signal: AbortSignal.abort(reason) });

    for (const [label, call] of calls) {
      const error = await rejectionOf(call());
      expect(error, label).toBeInstanceOf(AbortError);
      expect((error as AbortError).code, label).toBe('ERR_ABORTED');
      expect(error.message, label).toContain(`${name} ${label.split(' ')[0]}`);
      expect(error.cause, label).toBe(reason);
    }
  });

  it('accepts call options in every method', async () => {
    const options = { signal: new AbortController().signal, transfer: false };

    for (const [label, call] of keyCalls(pool.signature(name), options)) {
      await expect(call(), label).resolves.not.toBeInstanceOf(Error);
    }
  });

  it('rejects an unknown option in every method', async () => {
    const calls = keyCalls(pool.signature(name), { ctx: pattern(4, 0) } as never);

    for (const [label, call] of calls) {
      const error = await rejectionOf(call());
      expect(error, label).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).code, label).toBe('ERR_INVALID_ARGUMENT');
      expect(error.message, label).toMatch(
        new RegExp(`^${label.split(' ')[0]}: unknown option "ctx"; the options are `),
      );
      expect(error.message, label).toContain('signal and transfer');
    }
  });

  it('rejects every method after close', async () => {
    const closed = await openPool(1);
    await closed.close();

    for (const [label, call] of keyCalls(closed.signature(name), {})) {
      const error = await rejectionOf(call());
      expect(error, label).toBeInstanceOf(PoolClosedError);
      expect((error as PoolClosedError).code, label).toBe('ERR_POOL_CLOSED');
    }
  });

  it('only seed expansion waits for a worker', async () => {
    const busyPool = await openPool(1);
    const signer = pqc.signature('ML-DSA-87').keygen(pattern(32, 0));
    const busy = busyPool
      .signature('ML-DSA-87')
      .sign(new Uint8Array(SLOW_MESSAGE_LENGTH), signer.secretKey);
    const pooled = busyPool.signature(name);
    const der = pqc.signature(name).exportPrivateKey(keys, 'pkcs8-der');
    const expanded = pqc.signature(name).exportPrivateKey(keys, 'pkcs8-der', {
      form: 'expandedKey',
      includePublicKey: true,
    });

    const fromSeed = pooled.importPrivateKey(der, 'pkcs8-der');
    expect(busyPool.stats.queued).toBe(1);
    // The only worker is still signing, so this import cannot have used a worker.
    const fromExpandedKey = await pooled.importPrivateKey(expanded, 'pkcs8-der');
    expect(fromExpandedKey.secretKey).toEqual(keys.secretKey);
    expect(busyPool.stats.running).toBe(1);

    await busy;
    expect((await fromSeed).secretKey).toEqual(keys.secretKey);
  });

  it('aborted queued import never expands', async () => {
    const busyPool = await openPool(1);
    const signer = pqc.signature('ML-DSA-87').keygen(pattern(32, 0));
    const busy = busyPool
      .signature('ML-DSA-87')
      .sign(new Uint8Array(SLOW_MESSAGE_LENGTH), signer.secretKey);
    const controller = new AbortController();
    const der = pqc.signature(name).exportPrivateKey(keys, 'pkcs8-der');

    const queued = busyPool
      .signature(name)
      .importPrivateKey(der, 'pkcs8-der', { signal: controller.signal });
    expect(busyPool.stats.queued).toBe(1);
    controller.abort();

    const error = await rejectionOf(queued);
    expect(error).toBeInstanceOf(AbortError);
    expect(error.message).toBe(`${name} importPrivateKey was aborted by its AbortSignal`);
    expect(busyPool.stats.queued).toBe(0);
    await busy;
    await expect(busyPool.signature(name).importPrivateKey(der, 'pkcs8-der')).resolves.toEqual({
      seed: keys.seed,
      secretKey: keys.secretKey,
      publicKey: keys.publicKey,
    });
  });

  it('seed changed while queued rejects', async () => {
    const busyPool = await openPool(1);
    const signer = pqc.signature('ML-DSA-87').keygen(pattern(32, 0));
    const busy = busyPool
      .signature('ML-DSA-87')
      .sign(new Uint8Array(SLOW_MESSAGE_LENGTH), signer.secretKey);
    const other = pqc.signature(name).keygen(pattern(32, 77));
    const der = pqc.signature(name).exportPrivateKey(keys, 'pkcs8-der');

    const pending = busyPool.signature(name).importPrivateKey(der, 'pkcs8-der');
    der.set(pqc.signature(name).exportPrivateKey(other, 'pkcs8-der'));

    const error = await rejectionOf(pending);
    expect((error as { code?: string }).code).toBe('ERR_INVALID_ARGUMENT');
    expect(error.message).toContain('the private key data changed while the call was pending');
    expect(error).not.toBeInstanceOf(InvalidPrivateKeyError);
    await busy;
  });
});
