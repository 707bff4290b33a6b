/**
 * Adapters that give this SDK and the peer libraries one calling convention, and that turn an
 * adapter into operations with fixed inputs ready to be timed.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KemAlgorithm, PqcInstance, SignatureAlgorithm } from '../src/index.js';
import { isKemAlgorithm } from './algorithms.js';
import type { Algorithm, ImplementationName, Operation } from './types.js';
import { MESSAGE_LENGTH } from './types.js';

/** An ML-KEM parameter set behind the benchmark's calling convention. */
export interface KemCalls {
  keygen(): { publicKey: Uint8Array; secretKey: Uint8Array };
  encapsulate(publicKey: Uint8Array): { ciphertext: Uint8Array; sharedSecret: Uint8Array };
  decapsulate(ciphertext: Uint8Array, secretKey: Uint8Array): Uint8Array;
  /** Frees what the implementation allocated outside the JavaScript heap. */
  dispose?(): void;
}

/** An ML-DSA parameter set behind the benchmark's calling convention. */
export interface SignatureCalls {
  keygen(): { publicKey: Uint8Array; secretKey: Uint8Array };
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean;
  /** Frees what the implementation allocated outside the JavaScript heap. */
  dispose?(): void;
}

/** One implementation that runs in this process. */
export interface Implementation {
  name: ImplementationName;
  /** Package version, or the liboqs version for this SDK. */
  version: string;
  kem(algorithm: KemAlgorithm): Promise<KemCalls>;
  signature(algorithm: SignatureAlgorithm): Promise<SignatureCalls>;
}

/** One operation with fixed inputs; every call repeats the same work. */
export type PreparedOperation = () => unknown;

/** The three operations of one parameter set, with inputs made once and checked. */
export interface PreparedAlgorithm {
  implementation: ImplementationName;
  algorithm: Algorithm;
  operations: Partial<Record<Operation, PreparedOperation>>;
  dispose(): void;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

/** Returns which module build `pqc` runs (`simd` or `baseline`), or undefined if not reported. */
export function moduleVariantOf(pqc: PqcInstance): string | undefined {
  return (pqc as { moduleVariant?: string }).moduleVariant;
}

/**
 * Wraps the in-thread core of this SDK, loaded from the built package. `qynpqc` is the module
 * that loadPqc() picks by default, `qynpqc-baseline` the build without WebAssembly SIMD.
 */
export function ourImplementation(
  pqc: PqcInstance,
  name: 'qynpqc' | 'qynpqc-baseline' = 'qynpqc',
): Implementation {
  const variant = moduleVariantOf(pqc);
  return {
    name,
    version: `liboqs ${pqc.liboqsVersion}${variant === undefined ? '' : `, ${variant} module`}`,
    kem: async (algorithm) => {
      const kem = pqc.kem(algorithm);
      return {
        keygen: () => kem.keygen(),
        encapsulate: (publicKey) => kem.encapsulate(publicKey),
        decapsulate: (ciphertext, secretKey) => kem.decapsulate(ciphertext, secretKey),
      };
    },
    signature: async (algorithm) => {
      const scheme = pqc.signature(algorithm);
      return {
        keygen: () => scheme.keygen(),
        sign: (message, secretKey) => scheme.sign(message, secretKey),
        verify: (message, signature, publicKey) => scheme.verify(message, signature, publicKey),
      };
    },
  };
}

/** Reads the version from the package.json of `packageName`, found from its resolved entry. */
export async function packageVersion(packageName: string): Promise<string> {
  let directory = dirname(fileURLToPath(import.meta.resolve(packageName)));
  for (;;) {
    try {
      const manifest = JSON.parse(await readFile(join(directory, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === packageName && manifest.version !== undefined) {
        return manifest.version;
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw error;
      }
    }

    const parent = dirname(directory);
    if (parent === directory) {
      return 'unknown';
    }
    directory = parent;
  }
}

/** Loads `@noble/post-quantum` (pure JavaScript). Its default signing is hedged, as in liboqs. */
export async function nobleImplementation(): Promise<Implementation> {
  const { ml_kem512, ml_kem768, ml_kem1024 } = await import('@noble/post-quantum/ml-kem.js');
  const { ml_dsa44, ml_dsa65, ml_dsa87 } = await import('@noble/post-quantum/ml-dsa.js');
  const kems = { 'ML-KEM-512': ml_kem512, 'ML-KEM-768': ml_kem768, 'ML-KEM-1024': ml_kem1024 };
  const signatures = { 'ML-DSA-44': ml_dsa44, 'ML-DSA-65': ml_dsa65, 'ML-DSA-87': ml_dsa87 };

  return {
    name: '@noble/post-quantum',
    version: await packageVersion('@noble/post-quantum'),
    kem: async (algorithm) => {
      const kem = kems[algorithm];
      return {
        keygen: () => kem.keygen(),
        encapsulate: (publicKey) => {
          const { cipherText, sharedSecret } = kem.encapsulate(publicKey);
          return { ciphertext: cipherText, sharedSecret };
        },
        decapsulate: (ciphertext, secretKey) => kem.decapsulate(ciphertext, secretKey),
      };
    },
    signature: async (algorithm) => {
      const scheme = signatures[algorithm];
      return {
        keygen: () => scheme.keygen(),
        sign: (message, secretKey) => scheme.sign(message, secretKey),
        verify: (message, signature, publicKey) => scheme.verify(signature, message, publicKey),
      };
    },
  };
}

/** Loads `@oqs/liboqs-js` (liboqs compiled by emscripten, one module per parameter set). */
export async function liboqsJsImplementation(): Promise<Implementation> {
  const liboqs = await import('@oqs/liboqs-js');
  const kemFactories = {
    'ML-KEM-512': liboqs.createMLKEM512,
    'ML-KEM-768': liboqs.createMLKEM768,
    'ML-KEM-1024': liboqs.createMLKEM1024,
  };
  const signatureFactories = {
    'ML-DSA-44': liboqs.createMLDSA44,
    'ML-DSA-65': liboqs.createMLDSA65,
    'ML-DSA-87': liboqs.createMLDSA87,
  };

  return {
    name: '@oqs/liboqs-js',
    version: await packageVersion('@oqs/liboqs-js'),
    kem: async (algorithm) => {
      const kem = await kemFactories[algorithm]();
      return {
        keygen: () => kem.generateKeyPair(),
        encapsulate: (publicKey) => kem.encapsulate(publicKey),
        decapsulate: (ciphertext, secretKey) => kem.decapsulate(ciphertext, secretKey),
        dispose: () => kem.destroy(),
      };
    },
    signature: async (algorithm) => {
      const scheme = await signatureFactories[algorithm]();
      return {
        keygen: () => scheme.generateKeyPair(),
        sign: (message, secretKey) => scheme.sign(message, secretKey),
        verify: (message, signature, publicKey) => scheme.verify(message, signature, publicKey),
        dispose: () => scheme.destroy(),
      };
    },
  };
}

async function prepareKem(
  implementation: Implementation,
  algorithm: KemAlgorithm,
): Promise<PreparedAlgorithm> {
  const kem = await implementation.kem(algorithm);
  const { publicKey, secretKey } = kem.keygen();
  const { ciphertext, sharedSecret } = kem.encapsulate(publicKey);

  if (!bytesEqual(kem.decapsulate(ciphertext, secretKey), sharedSecret)) {
    kem.dispose?.();
    throw new Error(
      `${implementation.name} ${algorithm}: decapsulated shared secret differs from the encapsulated one`,
    );
  }

  return {
    implementation: implementation.name,
    algorithm,
    operations: {
      keygen: () => kem.keygen(),
      encapsulate: () => kem.encapsulate(publicKey),
      decapsulate: () => kem.decapsulate(ciphertext, secretKey),
    },
    dispose: () => kem.dispose?.(),
  };
}

async function prepareSignature(
  implementation: Implementation,
  algorithm: SignatureAlgorithm,
): Promise<PreparedAlgorithm> {
  const scheme = await implementation.signature(algorithm);
  const message = globalThis.crypto.getRandomValues(new Uint8Array(MESSAGE_LENGTH));
  const { publicKey, secretKey } = scheme.keygen();
  const signature = scheme.sign(message, secretKey);

  if (!scheme.verify(message, signature, publicKey)) {
    scheme.dispose?.();
    throw new Error(`${implementation.name} ${algorithm}: its own signature does not verify`);
  }

  return {
    implementation: implementation.name,
    algorithm,
    operations: {
      keygen: () => scheme.keygen(),
      sign: () => scheme.sign(message, secretKey),
      verify: () => scheme.verify(message, signature, publicKey),
    },
    dispose: () => scheme.dispose?.(),
  };
}

/**
 * Makes the inputs of every operation once (a key pair, a ciphertext or a signature) and checks
 * that the implementation round-trips them, so that a broken build fails before it is timed.
 */
export function prepareAlgorithm(
  implementation: Implementation,
  algorithm: Algorithm,
): Promise<PreparedAlgorithm> {
  return isKemAlgorithm(algorithm)
    ? prepareKem(implementation, algorithm)
    : prepareSignature(implementation, algorithm);
}
