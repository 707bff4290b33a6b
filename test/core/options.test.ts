// Options objects of the algorithm methods: their shape and the names of their fields.
import { beforeAll, describe, expect, it } from 'vitest';
import { isPqcError, loadPqc } from '../../src/index.js';
import type { KeyPair, PqcInstance } from '../../src/index.js';

let pqc: PqcInstance;
let dsa: ReturnType<PqcInstance['signature']>;
let keys: KeyPair;
const message = new TextEncoder().encode('options');
const context = new TextEncoder().encode('do');

beforeAll(async () => {
  pqc = await loadPqc();
  dsa = pqc.signature('ML-DSA-65');
  keys = dsa.keygen();
});

/** Runs `operation` and returns the error it threw. Fails the test when it returns normally. */
function thrownBy(operation: () => unknown): Error {
  try {
    operation();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the operation to throw, but it returned');
}

function expectInvalidArgument(operation: () => unknown, message: string): void {
  const error = thrownBy(operation);
  expect(isPqcError(error, 'ERR_INVALID_ARGUMENT')).toBe(true);
  expect(error.message).toBe(message);
}

describe('sign and verify options', () => {
  it('sign rejects a misspelled option', () => {
    const options = { ctx: context } as never;
    expectInvalidArgument(
      () => dsa.sign(message, keys.secretKey, options),
      'sign: unknown option "ctx"; the options are context and randomness',
    );
  });

  it('verify rejects a misspelled option', () => {
    const signature = dsa.sign(message, keys.secretKey, { context });
    const options = { ctx: context } as never;
    expectInvalidArgument(
      () => dsa.verify(message, signature, keys.publicKey, options),
      'verify: unknown option "ctx"; the only option is context',
    );
    expect(dsa.verify(message, signature, keys.publicKey, { context })).toBe(true);
  });

  it('verify rejects a sign-only option', () => {
    const signature = dsa.sign(message, keys.secretKey);
    const options = { randomness: new Uint8Array(32) } as never;
    expectInvalidArgument(
      () => dsa.verify(message, signature, keys.publicKey, options),
      'verify: unknown option "randomness"; the only option is context',
    );
  });

  it('sign rejects a plain array', () => {
    const options = [0x64, 0x6f] as never;
    expectInvalidArgument(
      () => dsa.sign(message, keys.secretKey, options),
      'sign: the last argument must be an options object such as { context }, got an array',
    );
  });

  it('verify rejects an empty array', () => {
    const signature = dsa.sign(message, keys.secretKey);
    expectInvalidArgument(
      () => dsa.verify(message, signature, keys.publicKey, [] as never),
      'verify: the last argument must be an options object such as { context }, got an array',
    );
  });

  it('sign names null as null', () => {
    expectInvalidArgument(
      () => dsa.sign(message, keys.secretKey, null as never),
      'sign: options must be an object, got null',
    );
  });

  it('accepts every allowed option', () => {
    const randomness = new Uint8Array(32);
    const signature = dsa.sign(message, keys.secretKey, { context, randomness });
    expect(dsa.verify(message, signature, keys.publicKey, { context })).toBe(true);
    expect(dsa.verify(message, signature, keys.publicKey, { context: undefined })).toBe(false);
  });
});

describe('private key export and import options', () => {
  it('exportPrivateKey rejects a misspelled option', () => {
    const options = { includePublickey: true } as never;
    expectInvalidArgument(
      () => dsa.exportPrivateKey(keys, 'pkcs8-der', options),
      'exportPrivateKey: unknown option "includePublickey"; the options are form and includePublicKey',
    );
  });

  it('importPrivateKey rejects a misspelled option', () => {
    const der = dsa.exportPrivateKey(keys, 'pkcs8-der');
    const options = { public_key: keys.publicKey } as never;
    expectInvalidArgument(
      () => dsa.importPrivateKey(der, 'pkcs8-der', options),
      'importPrivateKey: unknown option "public_key"; the only option is publicKey',
    );
    expect(dsa.importPrivateKey(der, 'pkcs8-der', { publicKey: keys.publicKey }).secretKey).toEqual(
      keys.secretKey,
    );
  });

  it('exportPrivateKey rejects an array', () => {
    expectInvalidArgument(
      () => dsa.exportPrivateKey(keys, 'pkcs8-der', ['both'] as never),
      'exportPrivateKey: the last argument must be an options object such as { form }, got an array',
    );
  });
});
