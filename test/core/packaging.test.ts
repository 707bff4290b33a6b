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
});
