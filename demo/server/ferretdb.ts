/**
 * Starts the FerretDB server the demo uses when no MONGODB_URI is given: SQLite backend in a
 * data directory that survives restarts, listening on a free 127.0.0.1 port, no telemetry.
 *
 * The binary is FERRETDB_BIN, else `$(go env GOPATH)/bin/ferretdb`. A FerretDB v1.24.2 binary
 * made by `go install` panics at start-up because the module lacks build/version/version.txt.
 * When that binary is missing or fails `--version`, the demo uses test/helpers/ferretdb-server,
 * the same version through FerretDB's embeddable package, and builds it with `go build` into
 * .data/ferretdb-server/ on first use.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import type { Logger } from 'pino';

const execute = promisify(execFile);

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EMBEDDED_SOURCE = join(ROOT, 'test', 'helpers', 'ferretdb-server');
const EMBEDDED_BINARY = join(ROOT, '.data', 'ferretdb-server', 'ferretdb-server');

/** Milliseconds to wait for FerretDB to accept connections. */
const START_TIMEOUT_MS = 30_000;
/** Milliseconds to wait for FerretDB to exit after SIGTERM before SIGKILL. */
const STOP_TIMEOUT_MS = 5_000;
/** Pause between connection attempts while FerretDB starts, in milliseconds. */
const READY_POLL_MS = 100;

/** A FerretDB process started by the demo. */
export interface FerretDbProcess {
  /** Connection string of the server. */
  readonly uri: string;
  /** Sends SIGTERM, then SIGKILL if it has not exited after five seconds. */
  stop(): Promise<void>;
}

async function runs(binary: string): Promise<boolean> {
  try {
    await execute(binary, ['--version']);
    return true;
  } catch {
    return false;
  }
}

async function findInstalledBinary(): Promise<string | undefined> {
  const configured = process.env['FERRETDB_BIN'];
  if (configured !== undefined && configured !== '') {
    return configured;
  }

  const { stdout } = await execute('go', ['env', 'GOPATH']).catch(() => ({ stdout: '' }));
  return stdout.trim() === '' ? undefined : join(stdout.trim(), 'bin', 'ferretdb');
}

async function resolveBinary(logger: Logger): Promise<string> {
  const installed = await findInstalledBinary();
  if (installed !== undefined && existsSync(installed) && (await runs(installed))) {
    return installed;
  }

  logger.warn(
    { installed, embedded: EMBEDDED_BINARY },
    'ferretdb binary missing or failing at start-up; using the embedded server',
  );
  if (!existsSync(EMBEDDED_BINARY)) {
    mkdirSync(join(ROOT, '.data', 'ferretdb-server'), { recursive: true });
    const temporary = `${EMBEDDED_BINARY}.${process.pid}.tmp`;
    await execute('go', ['build', '-o', temporary, '.'], { cwd: EMBEDDED_SOURCE });
    renameSync(temporary, EMBEDDED_BINARY);
    logger.info({ source: EMBEDDED_SOURCE, binary: EMBEDDED_BINARY }, 'embedded ferretdb built');
  }
  return EMBEDDED_BINARY;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (exited(child)) {
    return Promise.resolve(true);
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function waitUntilReady(
  uri: string,
  child: ChildProcess,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited(child)) {
      throw new Error(
        `FerretDB exited during start-up (${child.exitCode ?? child.signalCode}): ${stderr()}`,
      );
    }
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 500 });
    try {
      await client.db('admin').command({ ping: 1 });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
    } finally {
      await client.close();
    }
  }
  throw new Error(
    `FerretDB start timed out: no connection accepted within ${START_TIMEOUT_MS} ms: ${stderr()}`,
  );
}

/** Starts FerretDB with its SQLite files in `dataDirectory` and waits until it accepts connections. */
export async function startFerretDb(
  dataDirectory: string,
  logger: Logger,
): Promise<FerretDbProcess> {
  const binary = await resolveBinary(logger);
  mkdirSync(dataDirectory, { recursive: true });
  const address = `127.0.0.1:${await freePort()}`;
  const uri = `mongodb://${address}/?directConnection=true`;

  const child = spawn(
    binary,
    [
      '--handler=sqlite',
      `--sqlite-url=file:${dataDirectory}/`,
      `--listen-addr=${address}`,
      `--state-dir=${dataDirectory}`,
      '--telemetry=disable',
      '--debug-addr=-',
      '--log-level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  child.once('exit', (code, signal) =>
    logger.info({ ferretDbPid: child.pid, code, signal }, 'ferretdb exited'),
  );

  const stop = async (): Promise<void> => {
    if (exited(child)) {
      return;
    }
    child.kill('SIGTERM');
    if (!(await waitForExit(child, STOP_TIMEOUT_MS))) {
      logger.warn({ ferretDbPid: child.pid }, 'ferretdb ignored SIGTERM; sending SIGKILL');
      child.kill('SIGKILL');
      await waitForExit(child, STOP_TIMEOUT_MS);
    }
  };

  try {
    await waitUntilReady(uri, child, () => stderr);
  } catch (error) {
    child.kill('SIGKILL');
    await waitForExit(child, STOP_TIMEOUT_MS);
    throw error;
  }
  logger.info({ ferretDbPid: child.pid, address, dataDirectory, binary }, 'ferretdb started');
  return { uri, stop };
}
