/**
 * Messages between the pool and its workers. Every request carries a list of items, so a single
 * call is a batch of one. The worker replies with one result per item, in order, or with the
 * first error and the index of the item that raised it.
 */
import type { Encapsulation, KemAlgorithm, KeyPair, SignatureAlgorithm } from '../core/types.js';
import type { SerializedError } from './error-transport.js';
import type { PackedResults } from './packing.js';

/** One signature to check in a verify request. */
export interface VerifyItem {
  message: Uint8Array;
  signature: Uint8Array;
  publicKey: Uint8Array;
  /** FIPS 204 context string, empty when absent. */
  context?: Uint8Array;
}

/** Request and result types of each operation, by request kind. */
export interface OperationMap {
  'kem-keygen': {
    request: { kind: 'kem-keygen'; algorithm: KemAlgorithm; count: number; seeds?: Uint8Array[] };
    result: KeyPair;
  };
  'kem-encapsulate': {
    request: {
      kind: 'kem-encapsulate';
      algorithm: KemAlgorithm;
      publicKeys: Uint8Array[];
      randomness?: Uint8Array[];
    };
    result: Encapsulation;
  };
  'kem-decapsulate': {
    request: {
      kind: 'kem-decapsulate';
      algorithm: KemAlgorithm;
      ciphertexts: Uint8Array[];
      secretKey: Uint8Array;
    };
    result: Uint8Array;
  };
  'signature-keygen': {
    request: {
      kind: 'signature-keygen';
      algorithm: SignatureAlgorithm;
      count: number;
      seeds?: Uint8Array[];
    };
    result: KeyPair;
  };
  'signature-sign': {
    request: {
      kind: 'signature-sign';
      algorithm: SignatureAlgorithm;
      messages: Uint8Array[];
      secretKey: Uint8Array;
      context?: Uint8Array;
      randomness?: Uint8Array[];
    };
    result: Uint8Array;
  };
  'signature-verify': {
    request: { kind: 'signature-verify'; algorithm: SignatureAlgorithm; items: VerifyItem[] };
    result: boolean;
  };
}

/** Name of an operation a worker runs. */
export type OperationKind = keyof OperationMap;

/** Request of operation `K`. */
export type RequestOf<K extends OperationKind> = OperationMap[K]['request'];

/** Result of one item of operation `K`. */
export type ResultOf<K extends OperationKind> = OperationMap[K]['result'];

/** Any request a worker accepts. */
export type WorkerRequest = RequestOf<OperationKind>;

/**
 * A worker's reply to one request: verify results as they are, byte-array results packed into
 * one transferred buffer, or the first error with the index of the item that raised it.
 */
export type WorkerResponse =
  | { ok: true; results: boolean[] }
  | { ok: true; packed: PackedResults }
  | { ok: false; error: SerializedError; index: number };

/** A worker's reply to `init`. */
export type WorkerInitReply =
  { ok: true; liboqsVersion: string } | { ok: false; error: SerializedError };

/** The object each worker exposes through comlink. */
export interface WorkerApi {
  /** Instantiates `module` in the worker; must finish before the first `run`. */
  init(module: WebAssembly.Module): Promise<WorkerInitReply>;
  /** Runs every item of `request` and returns their results in one transferred buffer. */
  run(request: WorkerRequest): WorkerResponse;
}

/** Number of items in a request. */
export function itemCount(request: WorkerRequest): number {
  switch (request.kind) {
    case 'kem-keygen':
    case 'signature-keygen':
      return request.count;
    case 'kem-encapsulate':
      return request.publicKeys.length;
    case 'kem-decapsulate':
      return request.ciphertexts.length;
    case 'signature-sign':
      return request.messages.length;
    case 'signature-verify':
      return request.items.length;
  }
}
