/**
 * Key generation for enrollment: an ML-KEM-768 and an ML-DSA-65 key pair per user, from either
 * the in-thread core (`loadPqc()`) or the worker pool (`createPqcPool()`).
 *
 * The in-thread core generates on the calling thread and blocks its event loop meanwhile. The
 * pool generates in worker threads, so database writes can proceed at the same time.
 */
import type { KeyPair, Pqc } from '../core/types.js';
import type { PqcPool } from '../pool/pool.js';
import { USER_KEM_ALGORITHM, USER_SIGNATURE_ALGORITHM } from './schema.js';

/** Source of enrollment's key pairs: the in-thread core or a worker pool. */
export type KeySource = Pqc | PqcPool;

/** The two key pairs of one enrolled user, secret halves included. */
export interface UserKeyPairs {
  /** ML-KEM-768 key pair: 1184-byte public key, 2400-byte secret key, 64-byte seed d || z. */
  kem: KeyPair;
  /** ML-DSA-65 key pair: 1952-byte public key, 4032-byte secret key, 32-byte seed xi. */
  signature: KeyPair;
}

/** Generates `count` pairs of user key pairs, with `keygenBatch` when `source` is a pool. */
export async function generateUserKeyPairs(
  source: KeySource,
  count: number,
): Promise<UserKeyPairs[]> {
  if (count === 0) return [];

  const kem = source.kem(USER_KEM_ALGORITHM);
  const signature = source.signature(USER_SIGNATURE_ALGORITHM);

  if ('keygenBatch' in kem && 'keygenBatch' in signature) {
    const [kemPairs, signaturePairs] = await Promise.all([
      kem.keygenBatch(count),
      signature.keygenBatch(count),
    ]);
    return kemPairs.map((pair, index) => ({ kem: pair, signature: signaturePairs[index]! }));
  }

  const pairs: UserKeyPairs[] = [];
  for (let index = 0; index < count; index += 1) {
    pairs.push({ kem: await kem.keygen(), signature: await signature.keygen() });
  }
  return pairs;
}

/** Overwrites the secret keys and seeds of `pairs` with zeros; the public keys stay. */
export function zeroUserKeyPairs(pairs: UserKeyPairs): void {
  pairs.kem.secretKey.fill(0);
  pairs.kem.seed.fill(0);
  pairs.signature.secretKey.fill(0);
  pairs.signature.seed.fill(0);
}
