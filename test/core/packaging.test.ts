// Loads the built package the way users do: a plain ESM import, a CommonJS require, and from a
// worker_threads worker, in a fresh project with no bundler. Needs `npm run build` first.
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let project: string;

const ROUND_TRIP = `
  const pqc = await loadPqc();
  const kem = pqc.kem('ML-KEM-768');
  const keys = kem.keygen();
  const { ciphertext, sharedSecret } = kem.encapsulate(keys.publicKey);
  const again = kem.decapsulate(ciphertext, keys.secretKey);
  if (Buffer.compare(Buffer.from(again), Buffer.from(sharedSecret)) !== 0) throw new Error('mismatch');
`;

/** A pooled ML-KEM-768 round trip; prints `ok` and closes the pool so the process exits. */
const POOL_ROUND_TRIP = `
  const pool = await createPqcPool({ size: 1 });
  const kem = pool.kem('ML-KEM-768');
  const keys = await kem.keygen();
  const { ciphertext, sharedSecret } = await kem.encapsulate(keys.publicKey);
  const again = await kem.decapsulate(ciphertext, keys.secretKey);
  await pool.close();
  if (Buffer.compare(Buffer.from(again), Buffer.from(sharedSecret)) !== 0) throw new Error('mismatch');
  console.log('ok');
`;

/** Replaces the global fetch with one that throws, and reports whether it was ever called. */
const FETCH_TRAP = `
  let fetchCalls = 0;
  globalThis.fetch = () => { fetchCalls++; throw new Error('fetch must not be called in Node'); };
  process.on('exit', () => { if (fetchCalls > 0) { console.log('fetch called'); process.exitCode = 3; } });
`;

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'qynpqc-consumer-'));
  mkdirSync(join(project, 'node_modules', '@qynauth'), { recursive: true });
  symlinkSync(ROOT, join(project, 'node_modules', '@qynauth', 'pqc'), 'dir');
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module' }));
  writeFileSync(
    join(project, 'esm.js'),
    `import { loadPqc } from '@qynauth/pqc';\n${ROUND_TRIP}\nconsole.log('ok');\n`,
  );
  writeFileSync(
    join(project, 'esm-no-fetch.js'),
    `${FETCH_TRAP}\nconst { loadPqc } = await import('@qynauth/pqc');\n${ROUND_TRIP}\nconsole.log('ok');\n`,
  );
  writeFileSync(
    join(project, 'cjs.cjs'),
    `${FETCH_TRAP}\nconst { loadPqc } = require('@qynauth/pqc');\n(async () => {\n${ROUND_TRIP}\nconsole.log('ok');\n})();\n`,
  );
  writeFileSync(
    join(project, 'pool-esm.js'),
    `import { createPqcPool } from '@qynauth/pqc';\n${POOL_ROUND_TRIP}\n`,
  );
  writeFileSync(
    join(project, 'pool-cjs.cjs'),
    `const { createPqcPool } = require('@qynauth/pqc');\n(async () => {\n${POOL_ROUND_TRIP}\n})();\n`,
  );
  writeFileSync(
    join(project, 'store-esm.js'),
    `import { UserStore, normalizeEmail } from '@qynauth/pqc/store';\n` +
      `console.log(typeof UserStore, normalizeEmail(' Ada+pqc@Example.COMPANY '));\n`,
  );
  writeFileSync(
    join(project, 'store-cjs.cjs'),
    `const { UserStore, normalizeEmail } = require('@qynauth/pqc/store');\n` +
      `console.log(typeof UserStore, normalizeEmail(' Ada+pqc@Example.COMPANY '));\n`,
  );
  writeFileSync(
    join(project, 'worker-main.js'),
    `import { Worker } from 'node:worker_threads';
     const worker = new Worker(new URL('./worker.js', import.meta.url));
     worker.on('message', (message) => console.log(message));
     worker.on('error', (error) => { console.error(error); process.exitCode = 1; });\n`,
  );
  writeFileSync(
    join(project, 'worker.js'),
    `import { parentPort } from 'node:worker_threads';\nimport { loadPqc } from '@qynauth/pqc';\n${ROUND_TRIP}\nparentPort.postMessage('ok');\n`,
  );
});

afterAll(() => {
  rmSync(project, { recursive: true, force: true });
});

async function node(file: string): Promise<string> {
  const { stdout } = await run(process.execPath, [file], { cwd: project });
  return stdout.trim();
}

describe('package loading without a bundler', () => {
  it('works through a plain ESM import', async () => {
    expect(await node('esm.js')).toBe('ok');
  });

  it('works through require', async () => {
    expect(await node('cjs.cjs')).toBe('ok');
  });

  it('never calls a global fetch in Node', async () => {
    expect(await node('esm-no-fetch.js')).toBe('ok');
  });

  it('works inside a worker_threads worker', async () => {
    expect(await node('worker-main.js')).toBe('ok');
  });

  it('runs the worker pool through import', async () => {
    expect(await node('pool-esm.js')).toBe('ok');
  });

  it('runs the worker pool through require', async () => {
    expect(await node('pool-cjs.cjs')).toBe('ok');
  });

  it('loads the store entry point through import', async () => {
    expect(await node('store-esm.js')).toBe('function ada+pqc@example.company');
  });

  it('loads the store entry point through require', async () => {
    expect(await node('store-cjs.cjs')).toBe('function ada+pqc@example.company');
  });
});
