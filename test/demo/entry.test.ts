// `node --import tsx demo/server.ts`, the command behind `npm run demo`, as a child process: it
// prints its URL, serves the page, and stops itself and its FerretDB on SIGTERM.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPage } from './setup.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Milliseconds to wait for the demo to print its URL, FerretDB start-up included. */
const START_TIMEOUT_MS = 90_000;

let pageDirectory: string;
let dataDirectory: string;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        resolve(typeof address === 'object' && address !== null ? address.port : 0),
      );
    });
  });
}

function startEntry(environment: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
} {
  const { MONGODB_URI: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'demo/server.ts'], {
    cwd: ROOT,
    env: { ...inherited, LOG_LEVEL: 'info', ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

function waitFor(
  output: () => string,
  pattern: RegExp,
  child: ChildProcess,
): Promise<RegExpExecArray> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      const match = pattern.exec(output());
      if (match !== null) return resolve(match);
      if (child.exitCode !== null || Date.now() > deadline) {
        return reject(
          new Error(`no match for ${pattern} (exit code ${child.exitCode}):\n${output()}`),
        );
      }
      setTimeout(poll, 100);
    };
    poll();
  });
}

function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Stops `child` the way a user would, so that it stops its FerretDB too; SIGKILL as a last resort. */
async function stopEntry(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const stopped = await Promise.race([
    exitCode(child).then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 15_000)),
  ]);
  if (!stopped) child.kill('SIGKILL');
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  pageDirectory = await buildPage();
  dataDirectory = await mkdtemp(join(tmpdir(), 'qynpqc-demo-entry-'));
});

afterAll(async () => {
  await rm(pageDirectory, { recursive: true, force: true });
  await rm(dataDirectory, { recursive: true, force: true });
});

describe('demo entry point', () => {
  it('prints its URL and stops on SIGTERM', async () => {
    const port = await freePort();
    const { child, output } = startEntry({
      PORT: String(port),
      DEMO_DATA_DIR: dataDirectory,
      DEMO_PAGE_DIR: pageDirectory,
    });
    try {
      const [, url] = await waitFor(output, /QynAuth demo running at (http:\/\/\S+)\n/, child);
      expect(url).toBe(`http://127.0.0.1:${port}/`);
      const [, ferretDbPid] = await waitFor(
        output,
        /"ferretDbPid":(\d+),[^\n]*"ferretdb started"/,
        child,
      );

      const page = await fetch(url as string);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain(
        "script-src 'self' 'wasm-unsafe-eval'",
      );
      const wasm = await fetch(`${url}sdk/qynpqc.wasm`);
      expect(wasm.headers.get('content-type')).toBe('application/wasm');
      const created = await fetch(`${url}api/accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'entry@example.org', password: 'entry password' }),
      });
      expect(created.status).toBe(201);
      expect((await readdir(dataDirectory)).some((name) => name.endsWith('.sqlite'))).toBe(true);

      child.kill('SIGTERM');

      expect(await exitCode(child)).toBe(0);
      expect(output()).toContain('"msg":"demo server stopped"');
      expect(isRunning(Number(ferretDbPid))).toBe(false);
    } finally {
      await stopEntry(child);
    }
  });

  it('exits with an error for an invalid PORT', async () => {
    const { child, output } = startEntry({ PORT: 'eighty', DEMO_PAGE_DIR: pageDirectory });

    expect(await exitCode(child)).toBe(1);
    expect(output()).toContain('PORT must be an integer from 0 to 65535');
  });
});
