/** Entry point of the in-thread core: one module instance and the algorithms bound to it. */
import { UnknownAlgorithmError } from '../errors.js';
import { isKemAlgorithm, isSignatureAlgorithm } from './algorithms.js';
import { MlKem } from './kem.js';
import { glueVariantOf, instantiateGlue } from './loader.js';
import type { LoadOptions, ModuleVariant } from './loader.js';
import { WasmRuntime } from './runtime.js';
import { MlDsa } from './signature.js';
import { KEM_ALGORITHMS, SIGNATURE_ALGORITHMS } from './types.js';
import type { KemAlgorithm, Pqc, SignatureAlgorithm } from './types.js';
import { requireOptions } from './validate.js';

/** Names of the fields of {@link LoadOptions}. */
const LOAD_OPTIONS: readonly string[] = ['module', 'wasmBytes', 'wasmUrl', 'simd'];

/** The loaded SDK. Algorithm objects are created once and cached. */
export class PqcInstance implements Pqc {
  readonly liboqsVersion: string;
  /** Build of the module this instance runs: with WebAssembly SIMD kernels or without. */
  readonly moduleVariant: ModuleVariant;
  /** The runtime behind every algorithm object; exposed for tests and the worker pool. */
  readonly runtime: WasmRuntime;
  private readonly kems = new Map<KemAlgorithm, MlKem>();
  private readonly signatures = new Map<SignatureAlgorithm, MlDsa>();

  constructor(runtime: WasmRuntime) {
    this.runtime = runtime;
    this.liboqsVersion = runtime.liboqsVersion;
    this.moduleVariant = glueVariantOf(runtime.glue);
    // Frozen so that no caller can replace kem() or signature() for the others sharing it. The
    // algorithm caches are Maps, whose entries freezing does not affect.
    if (new.target === PqcInstance) Object.freeze(this);
  }

  kem(name: KemAlgorithm): MlKem {
    if (isSignatureAlgorithm(name)) {
      throw new UnknownAlgorithmError(
        name,
        KEM_ALGORITHMS,
        `${name} is a signature algorithm, not a KEM; call pqc.signature('${name}')`,
      );
    }
    if (!isKemAlgorithm(name)) {
      throw new UnknownAlgorithmError(name, KEM_ALGORITHMS);
    }
    let kem = this.kems.get(name);
    if (kem === undefined) {
      kem = new MlKem(name, this.runtime);
      this.kems.set(name, kem);
    }
    return kem;
  }

  signature(name: SignatureAlgorithm): MlDsa {
    if (isKemAlgorithm(name)) {
      throw new UnknownAlgorithmError(
        name,
        SIGNATURE_ALGORITHMS,
        `${name} is a KEM, not a signature algorithm; call pqc.kem('${name}')`,
      );
    }
    if (!isSignatureAlgorithm(name)) {
      throw new UnknownAlgorithmError(name, SIGNATURE_ALGORITHMS);
    }
    let scheme = this.signatures.get(name);
    if (scheme === undefined) {
      scheme = new MlDsa(name, this.runtime);
      this.signatures.set(name, scheme);
    }
    return scheme;
  }
}

/**
 * Loads the WebAssembly module and returns the SDK. Every call makes a new instance with its
 * own memory; the compiled module is cached and shared.
 */
export async function loadPqc(options: LoadOptions = {}): Promise<PqcInstance> {
  requireOptions(options, 'loadPqc', LOAD_OPTIONS);
  const glue = await instantiateGlue(options);
  return new PqcInstance(new WasmRuntime(glue));
}
