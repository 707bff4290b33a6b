/**
 * Finds, compiles and instantiates the WebAssembly module in Node, browsers and workers. It
 * replaces emscripten's generated JavaScript loader, which in emscripten 3.1.6 fails on Node 20
 * (its ES module output refers to __dirname, and its CommonJS output tries to fetch a file path).
 *
 * The module comes in two builds of the same liboqs: wasm/qynpqc-simd.wasm with WebAssembly
 * SIMD kernels for Keccak and the NTTs, and wasm/qynpqc.wasm without SIMD. By default the SIMD
 * build is loaded wherever the runtime validates a SIMD instruction.
 *
 * In Node the file is read from disk and no global fetch is ever called; in browsers and Web
 * Workers it is fetched from next to the bundle unless the caller passes it.
 */
import { InternalError, InvalidArgumentError, WasmLoadError } from '../errors.js';
import { fillRandom } from './random.js';
import type { GlueExports } from './runtime.js';
import { describeType, isDetached } from './validate.js';

/** Build of the module: with WebAssembly SIMD kernels (`simd`) or without (`baseline`). */
export type ModuleVariant = 'simd' | 'baseline';

/** Where the module comes from; every field is optional. */
export interface LoadOptions {
  /** An already compiled module, for example one posted to a worker. */
  module?: WebAssembly.Module;
  /** The module's bytes. */
  wasmBytes?: Uint8Array | ArrayBuffer;
  /** URL to fetch the module from (browsers) or read it from (Node, `file:` URLs). */
  wasmUrl?: string | URL;
  /**
   * Loads the SIMD build (`true`) or the baseline build (`false`) from the default location.
   * When unset, Node reads the environment variable `QYNPQC_WASM_VARIANT` (`simd` or
   * `baseline`), and otherwise the SIMD build is chosen when the runtime supports SIMD. Ignored
   * when `module`, `wasmBytes` or `wasmUrl` names the module.
   */
  simd?: boolean;
}

const WASM_FILES: Readonly<Record<ModuleVariant, string>> = {
  simd: 'qynpqc-simd.wasm',
  baseline: 'qynpqc.wasm',
};
/** Environment variable that selects the variant in Node when `simd` is not given. */
const VARIANT_ENV = 'QYNPQC_WASM_VARIANT';
/** Export that only the SIMD build has (see native/simd/exports.c). */
const SIMD_MARKER_EXPORT = 'qyn_simd128';
/**
 * A module with one function, `() -> v128` returning `i8x16.splat(i32.const 0)`. It is valid
 * only in runtimes that implement the WebAssembly SIMD proposal as standardised.
 */
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic and version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: one type, () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0x0b, // code: i32.const 0, i8x16.splat
]);
/**
 * Exports that {@link GlueExports} requires, with their kind, in the order they are checked.
 * `_initialize` is left out because only some builds have it.
 */
const REQUIRED_EXPORTS: readonly (readonly [string, WebAssembly.ImportExportKind])[] = [
  ['memory', 'memory'],
  ['qyn_init', 'function'],
  ['qyn_io_reserve', 'function'],
  ['qyn_liboqs_version', 'function'],
  ['qyn_stack_base', 'function'],
  ['qyn_stack_end', 'function'],
  ['qyn_kem_keypair', 'function'],
  ['qyn_kem_encapsulate', 'function'],
  ['qyn_kem_decapsulate', 'function'],
  ['qyn_sig_keypair', 'function'],
  ['qyn_sig_sign', 'function'],
  ['qyn_sig_verify', 'function'],
];
/** WASI errno ENOSYS: the function is not supported. */
const WASI_ENOSYS = 52;

const cachedModules = new Map<ModuleVariant, Promise<WebAssembly.Module>>();
let simdSupport: boolean | undefined;

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/** Returns whether this runtime validates WebAssembly SIMD instructions, checked once. */
export function isSimdSupported(): boolean {
  if (simdSupport === undefined) {
    simdSupport = typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  }
  return simdSupport;
}

/** Reads `QYNPQC_WASM_VARIANT` in Node, or returns undefined when it is unset or empty. */
function variantFromEnvironment(): ModuleVariant | undefined {
  if (!isNode()) {
    return undefined;
  }

  const value = process.env[VARIANT_ENV];
  if (value === undefined || value === '') {
    return undefined;
  }
  if (value !== 'simd' && value !== 'baseline') {
    throw new WasmLoadError(
      `invalid ${VARIANT_ENV} '${value}': set it to 'simd' or 'baseline', or unset it`,
    );
  }
  return value;
}

/** Returns the variant to load from the default location for `options`. */
export function selectVariant(options: Pick<LoadOptions, 'simd'> = {}): ModuleVariant {
  if (options.simd !== undefined) {
    return options.simd ? 'simd' : 'baseline';
  }

  const fromEnvironment = variantFromEnvironment();
  if (fromEnvironment !== undefined) {
    return fromEnvironment;
  }
  return isSimdSupported() ? 'simd' : 'baseline';
}

/** Returns which build `module` is, from the exports that only the SIMD build has. */
export function moduleVariantOf(module: WebAssembly.Module): ModuleVariant {
  const exports = WebAssembly.Module.exports(module);
  return exports.some((entry) => entry.name === SIMD_MARKER_EXPORT) ? 'simd' : 'baseline';
}

/** Returns which build an instance's exports come from. */
export function glueVariantOf(glue: GlueExports): ModuleVariant {
  return SIMD_MARKER_EXPORT in glue ? 'simd' : 'baseline';
}

/** Candidate locations next to this file: dist/ after bundling, src/core/ in development. */
function candidateUrls(file: string): URL[] {
  return [
    new URL(`./${file}`, import.meta.url),
    new URL(`../wasm/${file}`, import.meta.url),
    new URL(`../../wasm/${file}`, import.meta.url),
  ];
}

async function readInNode(file: string, url?: string | URL): Promise<Uint8Array> {
  const { readFile } = await import('node:fs/promises');
  const { fileURLToPath } = await import('node:url');
  const tried: string[] = [];
  const candidates =
    url === undefined ? candidateUrls(file) : [new URL(String(url), import.meta.url)];
  for (const candidate of candidates) {
    const path = candidate.protocol === 'file:' ? fileURLToPath(candidate) : String(candidate);
    tried.push(path);
    try {
      return await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new WasmLoadError(`could not read ${path}: ${(error as Error).message}`, { cause: error });
      }
    }
  }
  throw new WasmLoadError(
    `${file} not found; looked in ${tried.join(', ')}. Reinstall the package or pass wasmUrl`,
  );
}

async function fetchInBrowser(file: string, url?: string | URL): Promise<Uint8Array> {
  const target = url === undefined ? new URL(`./${file}`, import.meta.url) : url;
  let response: Response;
  try {
    response = await fetch(target);
  } catch (error) {
    throw new WasmLoadError(`could not fetch ${String(target)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!response.ok) {
    throw new WasmLoadError(`could not fetch ${String(target)}: HTTP ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Throws unless `module` has every export of {@link REQUIRED_EXPORTS}, so that a foreign module
 * fails at load time with its missing export named instead of at the first call into it.
 */
function requireGlueExports(module: WebAssembly.Module, source: string): void {
  const exports = WebAssembly.Module.exports(module);
  for (const [name, kind] of REQUIRED_EXPORTS) {
    if (!exports.some((entry) => entry.name === name && entry.kind === kind)) {
      throw new WasmLoadError(
        `${source} lacks the ${kind} export ${name}, so it is not this SDK's qynpqc.wasm; ` +
          `pass qynpqc.wasm or qynpqc-simd.wasm from the @qynauth/pqc package`,
      );
    }
  }
}

/** Returns whether `value` is a WebAssembly.Module, from any realm. */
function isWasmModule(value: unknown): value is WebAssembly.Module {
  try {
    // The brand check of Module.exports accepts modules of other realms, unlike instanceof.
    WebAssembly.Module.exports(value as WebAssembly.Module);
    return true;
  } catch (error) {
    if (error instanceof TypeError) {
      return false;
    }
    throw error;
  }
}

/** Throws unless each field of `options` that is present has its documented type. */
function checkLoadOptions(options: LoadOptions): void {
  const { module, wasmBytes, wasmUrl, simd } = options as Record<keyof LoadOptions, unknown>;
  if (module !== undefined && !isWasmModule(module)) {
    throw new InvalidArgumentError(
      `module must be a WebAssembly.Module, got ${describeType(module)}; compile the bytes ` +
        `with WebAssembly.compile or pass them as wasmBytes`,
    );
  }
  if (wasmBytes !== undefined) {
    if (!(wasmBytes instanceof Uint8Array) && !(wasmBytes instanceof ArrayBuffer)) {
      throw new InvalidArgumentError(
        `wasmBytes must be a Uint8Array or an ArrayBuffer, got ${describeType(wasmBytes)}`,
      );
    }
    const buffer = wasmBytes instanceof ArrayBuffer ? wasmBytes : wasmBytes.buffer;
    if (wasmBytes.byteLength === 0 && isDetached(buffer)) {
      throw new InvalidArgumentError(
        `wasmBytes is a detached ArrayBuffer or a view over one; it was transferred to another ` +
          `thread or context, pass a copy`,
      );
    }
  }
  if (wasmUrl !== undefined && typeof wasmUrl !== 'string' && !(wasmUrl instanceof URL)) {
    throw new InvalidArgumentError(
      `wasmUrl must be a string or a URL, got ${describeType(wasmUrl)}`,
    );
  }
  if (simd !== undefined && typeof simd !== 'boolean') {
    throw new InvalidArgumentError(
      `simd must be a boolean, got ${describeType(simd)}; omit it to choose by runtime support`,
    );
  }
}

/** Compiles the module named by `options`, or else `file` from the default location. */
async function compile(file: string, options: LoadOptions): Promise<WebAssembly.Module> {
  let bytes: Uint8Array | ArrayBuffer | undefined = options.wasmBytes;
  if (bytes === undefined) {
    bytes = isNode()
      ? await readInNode(file, options.wasmUrl)
      : await fetchInBrowser(file, options.wasmUrl);
  }
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(bytes as BufferSource);
  } catch (error) {
    throw new WasmLoadError(`could not compile ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  requireGlueExports(module, file);
  return module;
}

/**
 * Compiles the module once per realm and variant and returns the cached promise afterwards, so
 * concurrent first calls compile it once. Options that name a different source bypass the
 * cache. Rejects with InvalidArgumentError for an option of the wrong type, and with
 * WasmLoadError for a module that cannot be read or compiled or lacks this SDK's exports.
 */
export function compilePqcModule(options: LoadOptions = {}): Promise<WebAssembly.Module> {
  try {
    checkLoadOptions(options);
    if (options.module !== undefined) {
      requireGlueExports(options.module, 'the module passed as options.module');
      return Promise.resolve(options.module);
    }
  } catch (error) {
    return Promise.reject(error);
  }
  if (options.wasmBytes !== undefined || options.wasmUrl !== undefined) {
    const source = options.wasmUrl === undefined ? 'the wasmBytes given' : String(options.wasmUrl);
    return compile(source, options);
  }

  const variant = selectVariant(options);
  let cached = cachedModules.get(variant);
  if (cached === undefined) {
    cached = compile(WASM_FILES[variant], options);
    cachedModules.set(variant, cached);
    cached.catch(() => {
      cachedModules.delete(variant);
    });
  }
  return cached;
}

/** Fills `length` bytes at `pointer` with cryptographically secure random bytes. */
function fillMemory(memory: WebAssembly.Memory, pointer: number, length: number): void {
  fillRandom(new Uint8Array(memory.buffer, pointer, length));
}

/** Builds the import object; `memory` is bound once the instance exists. */
function createImports(memoryRef: { memory?: WebAssembly.Memory }): WebAssembly.Imports {
  const memory = (): WebAssembly.Memory => {
    if (memoryRef.memory === undefined) {
      throw new InternalError('the module called an import before it was instantiated');
    }
    return memoryRef.memory;
  };
  const stderr: string[] = [];
  return {
    env: {
      qyn_random_fill: (pointer: number, length: number) => fillMemory(memory(), pointer, length),
      getentropy: (pointer: number, length: number) => {
        fillMemory(memory(), pointer, length);
        return 0;
      },
      emscripten_notify_memory_growth: () => undefined,
    },
    wasi_snapshot_preview1: {
      // liboqs writes to stderr only right before it aborts; keep the text for the error.
      fd_write: (fd: number, iovs: number, count: number, written: number) => {
        const view = new DataView(memory().buffer);
        let total = 0;
        for (let i = 0; i < count; i++) {
          const base = view.getUint32(iovs + i * 8, true);
          const length = view.getUint32(iovs + i * 8 + 4, true);
          if (fd === 2) stderr.push(new TextDecoder().decode(new Uint8Array(memory().buffer, base, length)));
          total += length;
        }
        view.setUint32(written, total, true);
        return 0;
      },
      fd_close: () => WASI_ENOSYS,
      fd_seek: () => WASI_ENOSYS,
      proc_exit: (code: number) => {
        throw new InternalError(`liboqs aborted with exit code ${code}: ${stderr.join('').trim()}`);
      },
    },
  };
}

/** Instantiates the module and returns its exports. */
export async function instantiateGlue(options: LoadOptions = {}): Promise<GlueExports> {
  const module = await compilePqcModule(options);
  const memoryRef: { memory?: WebAssembly.Memory } = {};
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module, createImports(memoryRef));
  } catch (error) {
    const file = WASM_FILES[moduleVariantOf(module)];
    throw new WasmLoadError(`could not instantiate ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const exports = instance.exports as unknown as GlueExports;
  memoryRef.memory = exports.memory;
  return exports;
}
