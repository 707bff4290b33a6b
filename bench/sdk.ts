/**
 * Imports this SDK from the built package (dist/), which is what users install, while type
 * checking against the sources so that `tsc --noEmit` works before a build.
 */
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type * as Sdk from '../src/index.js';
import type { CreatePool } from './pool.js';

/** Entry point of the built ES module bundle. */
export const DIST_ENTRY = new URL('../dist/index.js', import.meta.url);

/** Imports dist/index.js, or throws with the build command when it is missing. */
export async function importSdk(): Promise<typeof Sdk> {
  const path = fileURLToPath(DIST_ENTRY);
  try {
    await access(path);
  } catch {
    throw new Error(`${path} not found; build the package first with npm run build`);
  }

  return (await import(DIST_ENTRY.href)) as typeof Sdk;
}

/** Where the pool factory came from, for the report. */
export interface PoolFactory {
  createPool: CreatePool;
  source: 'dist/index.js' | 'src/pool/index.ts';
}

/**
 * Returns `createPqcPool` from the built package. While dist/index.js does not export it, the
 * factory is imported from src/pool/index.ts through tsx instead. Its workers still run the
 * built dist/pool-worker.js.
 */
export async function importPoolFactory(sdk: typeof Sdk): Promise<PoolFactory> {
  const exported = (sdk as Record<string, unknown>)['createPqcPool'];
  if (typeof exported === 'function') {
    return { createPool: exported as CreatePool, source: 'dist/index.js' };
  }

  // TODO: remove this fallback once src/index.ts exports createPqcPool.
  const { createPqcPool } = await import('../src/pool/index.js');
  return { createPool: createPqcPool, source: 'src/pool/index.ts' };
}
