// Wrong module sources and detached byte inputs, each reported as a PqcError with its code.
import { beforeAll, describe, expect, it } from 'vitest';
import { compilePqcModule, isPqcError, loadPqc } from '../../src/index.js';
import type { LoadOptions, PqcErrorCode, PqcInstance } from '../../src/index.js';

/** The smallest valid module: magic number and version 1, no sections. */
const EMPTY_MODULE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
/** A module with one page of memory exported as `memory` and nothing else. */
const MEMORY_ONLY_MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic and version 1
  0x05, 0x03, 0x01, 0x00, 0x01, // memory section: one memory, minimum 1 page
  0x07, 0x0a, 0x01, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, // export "memory"
]);
const DETACHED_MESSAGE =
  'is a Uint8Array over a detached ArrayBuffer; it was transferred to another thread or ' +
  'context, pass a copy';

/** Awaits `promise` and returns its rejection reason; fails the test when it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** Runs `operation` and returns the error it threw. Fails the test when it returns normally. */
function thrownBy(operation: () => unknown): Error {
  try {
    operation();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the operation to throw, but it returned');
}

async function expectLoadFailure(
  options: unknown,
  code: PqcErrorCode,
  message: string | RegExp,
): Promise<void> {
  const error = await rejectionOf(loadPqc(options as LoadOptions));
  expect(error.name).not.toBe('TypeError');
  expect(isPqcError(error, code)).toBe(true);
  if (typeof message === 'string') {
    expect(error.message).toBe(message);
  } else {
    expect(error.message).toMatch(message);
  }
}

/** Returns a Uint8Array over a buffer that has been transferred away, so it is detached. */
function detachedBytes(length: number): Uint8Array {
  const buffer = new ArrayBuffer(length);
  const bytes = new Uint8Array(buffer);
  structuredClone(buffer, { transfer: [buffer] });
  return bytes;
}

describe('loadPqc options of the wrong type', () => {
  it('rejects a module that is not a WebAssembly.Module', async () => {
    await expectLoadFailure(
      { module: {} },
      'ERR_INVALID_ARGUMENT',
      'module must be a WebAssembly.Module, got Object; compile the bytes with ' +
        'WebAssembly.compile or pass them as wasmBytes',
    );
  });

  it('rejects module bytes passed as module', async () => {
    await expectLoadFailure({ module: EMPTY_MODULE }, 'ERR_INVALID_ARGUMENT', /got Uint8Array/);
  });

  it('rejects wasmBytes of other types', async () => {
    const cases: [unknown, string][] = [
      ['AGFzbQEAAAA=', 'string'],
      [[0, 0x61, 0x73, 0x6d], 'Array'],
      [new DataView(EMPTY_MODULE.buffer), 'DataView'],
      [null, 'null'],
    ];
    for (const [wasmBytes, type] of cases) {
      await expectLoadFailure(
        { wasmBytes },
        'ERR_INVALID_ARGUMENT',
        `wasmBytes must be a Uint8Array or an ArrayBuffer, got ${type}`,
      );
    }
  });

  it('rejects detached wasmBytes', async () => {
    await expectLoadFailure(
      { wasmBytes: detachedBytes(EMPTY_MODULE.length) },
      'ERR_INVALID_ARGUMENT',
      /^wasmBytes is a detached ArrayBuffer or a view over one/,
    );
  });

  it('rejects wasmUrl and simd of the wrong type', async () => {
    await expectLoadFailure(
      { wasmUrl: 42 },
      'ERR_INVALID_ARGUMENT',
      'wasmUrl must be a string or a URL, got number',
    );
    await expectLoadFailure(
      { simd: 'yes' },
      'ERR_INVALID_ARGUMENT',
      /^simd must be a boolean, got string/,
    );
  });

  it('rejects null options and unknown names', async () => {
    await expectLoadFailure(
      null,
      'ERR_INVALID_ARGUMENT',
      'loadPqc: options must be an object, got null',
    );
    await expectLoadFailure(
      { wasmURL: 'qynpqc.wasm' },
      'ERR_INVALID_ARGUMENT',
      'loadPqc: unknown option "wasmURL"; the options are module, wasmBytes, wasmUrl and simd',
    );
  });

  it('compilePqcModule rejects instead of throwing', async () => {
    let promise: Promise<WebAssembly.Module> | undefined;
    expect(() => {
      promise = compilePqcModule({ module: {} as WebAssembly.Module });
    }).not.toThrow();
    const error = await rejectionOf(promise!);
    expect(isPqcError(error, 'ERR_INVALID_ARGUMENT')).toBe(true);
  });
});

describe('modules that are not this SDK', () => {
  it('names the first missing export of wasmBytes', async () => {
    await expectLoadFailure(
      { wasmBytes: EMPTY_MODULE },
      'ERR_WASM_LOAD',
      "the wasmBytes given lacks the memory export memory, so it is not this SDK's " +
        'qynpqc.wasm; pass qynpqc.wasm or qynpqc-simd.wasm from the @qynauth/pqc package',
    );
    await expectLoadFailure(
      { wasmBytes: EMPTY_MODULE.buffer },
      'ERR_WASM_LOAD',
      /lacks the memory export memory/,
    );
  });

  it('names a missing function export', async () => {
    await expectLoadFailure(
      { wasmBytes: MEMORY_ONLY_MODULE },
      'ERR_WASM_LOAD',
      /^the wasmBytes given lacks the function export qyn_init, so it is not this SDK's/,
    );
  });

  it('checks a compiled module too', async () => {
    const module = await WebAssembly.compile(EMPTY_MODULE);
    await expectLoadFailure(
      { module },
      'ERR_WASM_LOAD',
      /^the module passed as options\.module lacks the memory export memory/,
    );
  });

  it('still loads the shipped module', async () => {
    const module = await compilePqcModule();
    const pqc = await loadPqc({ module });
    expect(pqc.liboqsVersion).toBe('0.13.0');
  });
});

describe('detached byte inputs', () => {
  let pqc: PqcInstance;
  beforeAll(async () => {
    pqc = await loadPqc();
  });

  it('sign rejects a detached message', () => {
    const dsa = pqc.signature('ML-DSA-65');
    const keys = dsa.keygen();
    const error = thrownBy(() => dsa.sign(detachedBytes(16), keys.secretKey));
    expect(isPqcError(error, 'ERR_INVALID_ARGUMENT')).toBe(true);
    expect(error.message).toBe(`message ${DETACHED_MESSAGE}`);
  });

  it('verify and encapsulate name the detached input', () => {
    const dsa = pqc.signature('ML-DSA-44');
    const keys = dsa.keygen();
    const signature = dsa.sign(new Uint8Array(1), keys.secretKey);
    const detachedSignature = detachedBytes(signature.length);
    const verifyError = thrownBy(() =>
      dsa.verify(new Uint8Array(1), detachedSignature, keys.publicKey),
    );
    expect(verifyError.message).toBe(`signature ${DETACHED_MESSAGE}`);

    const kem = pqc.kem('ML-KEM-512');
    const encapsulateError = thrownBy(() => kem.encapsulate(detachedBytes(kem.publicKeyLength)));
    expect(isPqcError(encapsulateError, 'ERR_INVALID_ARGUMENT')).toBe(true);
    expect(encapsulateError.message).toBe(`publicKey ${DETACHED_MESSAGE}`);
  });

  it('accepts empty messages that are not detached', () => {
    const dsa = pqc.signature('ML-DSA-65');
    const keys = dsa.keygen();
    const live = new Uint8Array(8);
    const empties = [new Uint8Array(0), live.subarray(8), new Uint8Array(new ArrayBuffer(0))];
    for (const empty of empties) {
      const signature = dsa.sign(empty, keys.secretKey);
      expect(dsa.verify(empty, signature, keys.publicKey)).toBe(true);
    }
  });
});
