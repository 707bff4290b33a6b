/**
 * Owns one instance of the WebAssembly module: its memory, the reusable I/O area and the
 * clearing of secrets. Algorithm objects only compute offsets and call through it.
 */
import { InternalError } from '../errors.js';

/** Exports of wasm/qynpqc.wasm; see native/qynpqc.c for their contracts. */
export interface GlueExports {
  readonly memory: WebAssembly.Memory;
  _initialize?(): void;
  qyn_init(): void;
  qyn_io_reserve(length: number): number;
  qyn_liboqs_version(): number;
  qyn_stack_base(): number;
  qyn_stack_end(): number;
  qyn_kem_keypair(alg: number, publicKey: number, secretKey: number, seed: number): number;
  qyn_kem_encapsulate(
    alg: number,
    ciphertext: number,
    sharedSecret: number,
    publicKey: number,
    randomness: number,
  ): number;
  qyn_kem_decapsulate(alg: number, sharedSecret: number, ciphertext: number, secretKey: number): number;
  qyn_sig_keypair(alg: number, publicKey: number, secretKey: number, seed: number): number;
  qyn_sig_sign(
    alg: number,
    signature: number,
    signatureLength: number,
    message: number,
    messageLength: number,
    context: number,
    contextLength: number,
    secretKey: number,
    randomness: number,
  ): number;
  qyn_sig_verify(
    alg: number,
    message: number,
    messageLength: number,
    signature: number,
    signatureLength: number,
    context: number,
    contextLength: number,
    publicKey: number,
  ): number;
}

/** Status codes returned by the glue (`qyn_status` in native/qynpqc.c). */
export const Status = {
  OK: 0,
  OQS_ERROR: 1,
  RANDOMNESS: 2,
  ALGORITHM: 3,
  NO_MEMORY: 4,
} as const;

/** Alignment of every region laid out in the I/O area, in bytes. */
const REGION_ALIGNMENT = 16;

/** Rounds `length` up to the region alignment. */
export function align(length: number): number {
  return (length + REGION_ALIGNMENT - 1) & ~(REGION_ALIGNMENT - 1);
}

export class WasmRuntime {
  readonly liboqsVersion: string;
  private readonly exports: GlueExports;
  private bytes: Uint8Array;
  private ioPointer = 0;
  private ioCapacity = 0;
  private readonly stackBase: number;
  private readonly stackEnd: number;
  /** Bytes of stack each (operation, status) pair has been seen to dirty. */
  private readonly stackDepths = new Map<string, number>();

  constructor(exports: GlueExports) {
    this.exports = exports;
    this.bytes = new Uint8Array(exports.memory.buffer);
    exports._initialize?.();
    exports.qyn_init();
    this.stackBase = exports.qyn_stack_base();
    this.stackEnd = exports.qyn_stack_end();
    this.liboqsVersion = this.readCString(exports.qyn_liboqs_version());
    this.view().fill(0, this.stackEnd, this.stackBase);
  }

  get glue(): GlueExports {
    return this.exports;
  }

  /** Returns a view of the whole memory, renewed when the memory has grown. */
  view(): Uint8Array {
    if (this.bytes.buffer !== this.exports.memory.buffer) {
      this.bytes = new Uint8Array(this.exports.memory.buffer);
    }
    return this.bytes;
  }

  /** Returns the start of an I/O area of at least `length` bytes, reused across calls. */
  reserve(length: number): number {
    if (length > this.ioCapacity) {
      const capacity = Math.max(align(length), 64 * 1024);
      const pointer = this.exports.qyn_io_reserve(capacity);
      if (pointer === 0) {
        throw new InternalError(`could not reserve ${capacity} bytes of WebAssembly memory`);
      }
      this.ioPointer = pointer;
      this.ioCapacity = capacity;
    }
    return this.ioPointer;
  }

  write(pointer: number, data: Uint8Array): void {
    this.view().set(data, pointer);
  }

  /** Copies `length` bytes out of the module's memory. */
  read(pointer: number, length: number): Uint8Array {
    return this.view().slice(pointer, pointer + length);
  }

  readUint32(pointer: number): number {
    const bytes = this.view();
    return (
      (bytes[pointer]! | (bytes[pointer + 1]! << 8) | (bytes[pointer + 2]! << 16)) +
      bytes[pointer + 3]! * 0x1000000
    );
  }

  /**
   * Clears `length` bytes of the I/O area and the stack that `operation` dirtied. Stack use is
   * fixed for a given operation, parameter set and outcome, because none of the compiled code
   * allocates stack in proportion to its input; the first call of each measures it by scanning.
   */
  clearAfter(operation: string, status: number, length: number): void {
    const bytes = this.view();
    bytes.fill(0, this.ioPointer, this.ioPointer + length);

    const key = `${operation}:${status}`;
    let depth = this.stackDepths.get(key);
    if (depth === undefined) {
      depth = this.measureStackDepth();
      this.stackDepths.set(key, depth);
    }
    bytes.fill(0, this.stackBase - depth, this.stackBase);
  }

  /** Returns how many bytes below the stack base are not zero, plus a safety margin. */
  private measureStackDepth(): number {
    const bytes = this.view();
    let lowest = this.stackBase;
    for (let address = this.stackEnd; address < this.stackBase; address++) {
      if (bytes[address] !== 0) {
        lowest = address;
        break;
      }
    }
    const margin = 1024;
    return Math.min(this.stackBase - this.stackEnd, this.stackBase - lowest + margin);
  }

  /** Returns the number of non-zero bytes in the whole stack region; used by tests. */
  countDirtyStackBytes(): number {
    const bytes = this.view();
    let count = 0;
    for (let address = this.stackEnd; address < this.stackBase; address++) {
      if (bytes[address] !== 0) count++;
    }
    return count;
  }

  private readCString(pointer: number): string {
    const bytes = this.view();
    let end = pointer;
    while (bytes[end] !== 0) end++;
    return new TextDecoder().decode(bytes.subarray(pointer, end));
  }
}
