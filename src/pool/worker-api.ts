/**
 * The code that runs inside each pool worker: one in-thread core instance, instantiated from the
 * module the pool compiled, and a `run` method that executes a request's items in order.
 *
 * The worker owns the copies of inputs that structured clone gave it, so after each request it
 * zeroes the secret ones (seeds, randomness, secret keys). Results are copied into one buffer
 * that is transferred, which detaches it here, and the per-result copies are zeroed, so no
 * result bytes stay in the worker. The core itself clears its WebAssembly I/O area and stack
 * after every operation.
 */
import { transfer } from 'comlink';
import { loadPqc } from '../core/pqc.js';
import type { PqcInstance } from '../core/pqc.js';
import { InternalError } from '../errors.js';
import { wipeAll } from './bytes.js';
import { serializeError } from './error-transport.js';
import { packResults } from './packing.js';
import type {
  OperationKind,
  ResultOf,
  WorkerApi,
  WorkerInitReply,
  WorkerRequest,
  WorkerResponse,
} from './protocol.js';

type AnyResult = ResultOf<OperationKind>;

/** Runs every item of `request`, appending each result to `results` as it is produced. */
function execute(pqc: PqcInstance, request: WorkerRequest, results: AnyResult[]): void {
  switch (request.kind) {
    case 'kem-keygen': {
      const kem = pqc.kem(request.algorithm);
      for (let i = 0; i < request.count; i++) results.push(kem.keygen(request.seeds?.[i]));
      return;
    }
    case 'kem-encapsulate': {
      const kem = pqc.kem(request.algorithm);
      request.publicKeys.forEach((publicKey, i) => {
        results.push(kem.encapsulate(publicKey, request.randomness?.[i]));
      });
      return;
    }
    case 'kem-decapsulate': {
      const kem = pqc.kem(request.algorithm);
      for (const ciphertext of request.ciphertexts) {
        results.push(kem.decapsulate(ciphertext, request.secretKey));
      }
      return;
    }
    case 'signature-keygen': {
      const scheme = pqc.signature(request.algorithm);
      for (let i = 0; i < request.count; i++) results.push(scheme.keygen(request.seeds?.[i]));
      return;
    }
    case 'signature-sign': {
      const scheme = pqc.signature(request.algorithm);
      request.messages.forEach((message, i) => {
        const randomness = request.randomness?.[i];
        const options =
          randomness === undefined
            ? { context: request.context }
            : { context: request.context, randomness };
        results.push(scheme.sign(message, request.secretKey, options));
      });
      return;
    }
    case 'signature-verify': {
      const scheme = pqc.signature(request.algorithm);
      for (const item of request.items) {
        results.push(
          scheme.verify(item.message, item.signature, item.publicKey, { context: item.context }),
        );
      }
      return;
    }
  }
}

/** Zeroes this worker's copies of the secret inputs of `request`. */
function wipeSecretInputs(request: WorkerRequest): void {
  const wipe = (bytes: unknown): void => {
    if (bytes instanceof Uint8Array) bytes.fill(0);
  };
  if ('seeds' in request) request.seeds?.forEach(wipe);
  if ('randomness' in request) request.randomness?.forEach(wipe);
  if ('secretKey' in request) wipe(request.secretKey);
}

/** Creates the API a worker exposes to the pool. */
export function createWorkerApi(): WorkerApi {
  let pqc: PqcInstance | undefined;

  return {
    async init(module: WebAssembly.Module): Promise<WorkerInitReply> {
      try {
        pqc = await loadPqc({ module });
        return { ok: true, liboqsVersion: pqc.liboqsVersion };
      } catch (error) {
        return { ok: false, error: serializeError(error) };
      }
    },

    run(request: WorkerRequest): WorkerResponse {
      const results: AnyResult[] = [];
      try {
        if (pqc === undefined) {
          throw new InternalError('the pool sent a request to a worker before its init finished');
        }
        execute(pqc, request, results);
        if (request.kind === 'signature-verify') {
          return { ok: true, results: results as boolean[] };
        }
        const { packed, transfer: buffers } = packResults(results);
        return transfer({ ok: true, packed }, buffers);
      } catch (error) {
        // The caller discards a failed request's results, and some of them are secret.
        wipeAll(results);
        return { ok: false, error: serializeError(error), index: results.length };
      } finally {
        wipeSecretInputs(request);
      }
    },
  };
}
