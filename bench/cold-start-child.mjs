// Child process of the cold-start measurement (bench/cold-start.ts). It imports one
// implementation, makes one ML-KEM-768 key pair and prints its timings as one line of JSON.
// It is plain JavaScript run by plain node, so no TypeScript loader adds to the time.
import { performance } from 'node:perf_hooks';

const implementation = process.argv[2];
const importStart = performance.now();

/** Imports `implementation` and returns a function that makes one ML-KEM-768 key pair. */
async function load() {
  switch (implementation) {
    case 'qynpqc': {
      const { loadPqc } = await import('../dist/index.js');
      const pqc = await loadPqc();
      return () => pqc.kem('ML-KEM-768').keygen();
    }
    case '@noble/post-quantum': {
      const { ml_kem768 } = await import('@noble/post-quantum/ml-kem.js');
      return () => ml_kem768.keygen();
    }
    case '@oqs/liboqs-js': {
      const { createMLKEM768 } = await import('@oqs/liboqs-js');
      const kem = await createMLKEM768();
      return () => kem.generateKeyPair();
    }
    default:
      throw new Error(
        `unknown implementation '${implementation}'; expected qynpqc, @noble/post-quantum or @oqs/liboqs-js`,
      );
  }
}

const keygen = await load();
const keyPair = keygen();
const end = performance.now();

if (!(keyPair.publicKey instanceof Uint8Array) || keyPair.publicKey.length === 0) {
  throw new Error(`${implementation} returned no ML-KEM-768 public key`);
}

// performance.now() counts from the start of this process, so `end` includes Node's own startup.
process.stdout.write(
  `${JSON.stringify({ importToKeyPairMs: end - importStart, processStartToKeyPairMs: end })}\n`,
);
