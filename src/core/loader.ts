/**
 * Finds, compiles and instantiates wasm/qynpqc.wasm in Node, browsers and workers. It replaces
 * emscripten's generated JavaScript loader, which in emscripten 3.1.6 fails on Node 20 (its ES
 * module output refers to __dirname, and its CommonJS output tries to fetch a file path).
 *
 * In Node the file is read from disk and no global fetch is ever called; in browsers and Web
 * Workers it is fetched from next to the bundle unless the caller passes it.
 */
import { WasmLoadError, InternalError } from '../errors.js';
import { fillRandom } from './random.js';
import type { GlueExports } from './runtime.js';

/** Where the module comes from; every field is optional. */
export interface LoadOptions {
  /** An already compiled module, for example one posted to a worker. */
  module?: WebAssembly.Module;
  /** The module's bytes. */
  wasmBytes?: Uint8Array | ArrayBuffer;
  /** URL to fetch the module from (browsers) or read it from (Node, `file:` URLs). */
  wasmUrl?: string | URL;
}

const WASM_FILE = 'qynpqc.wasm';
/** WASI errno ENOSYS: the function is not supported. */
const WASI_ENOSYS = 52;

let cachedModule: Promise<WebAssembly.Module> | undefined;

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/** Candidate locations next to this file: dist/ after bundling, src/core/ in development. */
function candidateUrls(): URL[] {
  return [
    new URL(`./${WASM_FILE}`, import.meta.url),
    new URL(`../wasm/${WASM_FILE}`, import.meta.url),
    new URL(`../../wasm/${WASM_FILE}`, import.meta.url),
  ];
}

async function readInNode(url?: string | URL): Promise<Uint8Array> {
  const { readFile } = await import('node:fs/promises');
  const { fileURLToPath } = await import('node:url');
  const tried: string[] = [];
  const candidates = url === undefined ? candidateUrls() : [new URL(String(url), import.meta.url)];
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
    `${WASM_FILE} not found; looked in ${tried.join(', ')}. Reinstall the package or pass wasmUrl`,
  );
}

async function fetchInBrowser(url?: string | URL): Promise<Uint8Array> {
  const target = url === undefined ? new URL(`./${WASM_FILE}`, import.meta.url) : url;
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

async function compile(options: LoadOptions): Promise<WebAssembly.Module> {
  let bytes: Uint8Array | ArrayBuffer | undefined = options.wasmBytes;
  if (bytes === undefined) {
    bytes = isNode() ? await readInNode(options.wasmUrl) : await fetchInBrowser(options.wasmUrl);
  }
  try {
    return await WebAssembly.compile(bytes as BufferSource);
  } catch (error) {
    throw new WasmLoadError(`could not compile ${WASM_FILE}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * Compiles the module once per realm and returns the cached promise afterwards, so concurrent
 * first calls compile it once. Options that name a different source bypass the cache.
 */
export function compilePqcModule(options: LoadOptions = {}): Promise<WebAssembly.Module> {
  if (options.module !== undefined) {
    return Promise.resolve(options.module);
  }
  if (options.wasmBytes !== undefined || options.wasmUrl !== undefined) {
    return compile(options);
  }
  if (cachedModule === undefined) {
    cachedModule = compile(options);
    cachedModule.catch(() => {
      cachedModule = undefined;
    });
  }
  return cachedModule;
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
    throw new WasmLoadError(`could not instantiate ${WASM_FILE}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const exports = instance.exports as unknown as GlueExports;
  memoryRef.memory = exports.memory;
  return exports;
}
