// Runs the worker pool in the page and stores the outcome in window.poolResult (a promise of
// plain JSON: byte values as hex). The Node side recomputes every value with the in-thread core
// from the same seeds and compares.
import { createPqcPool, InvalidLengthError, isPqcError, PqcError } from '../index.js';

const toHex = (bytes) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
const pattern = (length, start) => Uint8Array.from({ length }, (_, i) => (start + i) & 0xff);
const ownsBuffer = (bytes) =>
  bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength;

async function run() {
  const pool = await createPqcPool({ size: 2 });
  const kem = pool.kem('ML-KEM-768');
  const scheme = pool.signature('ML-DSA-65');

  const kemPair = await kem.keygen(pattern(64, 1));
  const encapsulation = await kem.encapsulate(kemPair.publicKey, pattern(32, 2));
  const sharedSecret = await kem.decapsulate(encapsulation.ciphertext, kemPair.secretKey);
  const batch = await kem.keygenBatch([pattern(64, 10), pattern(64, 20), pattern(64, 30)]);

  const message = new TextEncoder().encode('signed in a browser worker');
  const context = new TextEncoder().encode('browser test');
  const signer = await scheme.keygen(pattern(32, 3));
  const signature = await scheme.sign(message, signer.secretKey, {
    context,
    randomness: pattern(32, 4),
  });
  const verified = await scheme.verify(message, signature, signer.publicKey, { context });
  const tampered = signature.slice();
  tampered[10] ^= 1;
  const tamperedVerified = await scheme.verify(message, tampered, signer.publicKey, { context });

  let error;
  try {
    await kem.decapsulate(new Uint8Array(10), kemPair.secretKey);
  } catch (caught) {
    error = {
      name: caught.name,
      code: caught.code,
      message: caught.message,
      isInvalidLengthError: caught instanceof InvalidLengthError,
      isPqcError: caught instanceof PqcError && isPqcError(caught, 'ERR_INVALID_LENGTH'),
    };
  }

  const workersBeforeClose = pool.stats.workers;
  await pool.close();

  return {
    liboqsVersion: pool.liboqsVersion,
    size: pool.size,
    workersBeforeClose,
    workersAfterClose: pool.stats.workers,
    kemPublicKey: toHex(kemPair.publicKey),
    kemSecretKey: toHex(kemPair.secretKey),
    ciphertext: toHex(encapsulation.ciphertext),
    sharedSecret: toHex(encapsulation.sharedSecret),
    decapsulated: toHex(sharedSecret),
    batchPublicKeys: batch.map((pair) => toHex(pair.publicKey)),
    signaturePublicKey: toHex(signer.publicKey),
    signature: toHex(signature),
    verified,
    tamperedVerified,
    resultsOwnTheirBuffers: [kemPair.publicKey, kemPair.secretKey, signature].every(ownsBuffer),
    error,
  };
}

window.poolResult = run();
window.poolResult.then(
  () => (document.getElementById('status').textContent = 'done'),
  (error) => (document.getElementById('status').textContent = `failed: ${error}`),
);
