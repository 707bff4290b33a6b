/**
 * Startup costs: the time a fresh Node process needs from importing an implementation to its
 * first ML-KEM-768 key pair, and the size of the WebAssembly modules that users download.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { median } from './stats.js';
import type { ImplementationName } from './types.js';

const execFileAsync = promisify(execFile);

const CHILD_SCRIPT = fileURLToPath(new URL('./cold-start-child.mjs', import.meta.url));
/** A child that takes longer than this has hung; a normal run takes well under a second. */
const CHILD_TIMEOUT_MS = 30_000;

/** Median cold-start times of one implementation over several fresh processes. */
export interface ColdStart {
  implementation: ImplementationName;
  runs: number;
  /** From the start of the import to the first key pair, in milliseconds. */
  importToKeyPairMs: number;
  /** From the start of the Node process to the first key pair, in milliseconds. */
  processStartToKeyPairMs: number;
}

/** Raw and gzip-compressed size of the module, in bytes. */
export interface ModuleSize {
  path: string;
  rawBytes: number;
  gzipBytes: number;
}

interface ChildTimings {
  importToKeyPairMs: number;
  processStartToKeyPairMs: number;
}

async function runChild(implementation: ImplementationName): Promise<ChildTimings> {
  const { stdout } = await execFileAsync(process.execPath, [CHILD_SCRIPT, implementation], {
    timeout: CHILD_TIMEOUT_MS,
  });
  return JSON.parse(stdout) as ChildTimings;
}

/**
 * Spawns `runs` fresh processes per implementation, taking turns between implementations, and
 * returns the median timings of each.
 */
export async function measureColdStarts(
  implementations: readonly ImplementationName[],
  runs: number,
): Promise<ColdStart[]> {
  const timings = new Map<ImplementationName, ChildTimings[]>();
  for (const implementation of implementations) {
    timings.set(implementation, []);
  }

  for (let run = 0; run < runs; run++) {
    for (const implementation of implementations) {
      timings.get(implementation)!.push(await runChild(implementation));
    }
  }

  return implementations.map((implementation) => {
    const samples = timings.get(implementation)!;
    return {
      implementation,
      runs: samples.length,
      importToKeyPairMs: median(samples.map((sample) => sample.importToKeyPairMs)),
      processStartToKeyPairMs: median(samples.map((sample) => sample.processStartToKeyPairMs)),
    };
  });
}

/**
 * Measures every `.wasm` file in `directory` (below `root`) raw and gzip-compressed at the
 * maximum level. Paths in the result are relative to `root`.
 */
export async function measureModuleSizes(root: string, directory: string): Promise<ModuleSize[]> {
  const files = (await readdir(join(root, directory))).filter((file) => file.endsWith('.wasm'));
  const sizes: ModuleSize[] = [];

  for (const file of files.sort()) {
    const bytes = await readFile(join(root, directory, file));
    sizes.push({
      path: `${directory}/${file}`,
      rawBytes: bytes.length,
      gzipBytes: gzipSync(bytes, { level: 9 }).length,
    });
  }
  return sizes;
}
