/**
 * Starts a throwaway FerretDB server for the store tests: SQLite backend in a temporary folder,
 * a free loopback port, no telemetry and no debug HTTP listener. When `MONGODB_URI` is set, the
 * tests use that server instead and nothing is started.
 *
 * The binary is `FERRETDB_BIN`, else `$(go env GOPATH)/bin/ferretdb`, else `~/go/bin/ferretdb`.
 * A FerretDB v1.24.2 binary made by `go install` panics at start-up because the module lacks the
 * generated build/version/version.txt. When the chosen binary fails that way, the helper builds
 * test/helpers/ferretdb-server (the same FerretDB version through its embeddable package) into
 * .data/ and uses that instead, with a warning on stderr.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';

const execute = promisify(execFile);

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EMBEDDED_SOURCE = join(ROOT, 'test', 'helpers', 'ferretdb-server');
const EMBEDDED_BINARY = join(ROOT, '.data', 'ferretdb-server', 'ferretdb-server');

/** Milliseconds to wait for a started server to accept connections. */
const START_TIMEOUT_MS = 30_000;
/** Milliseconds `stop` waits for a graceful exit before it sends SIGKILL. */
const STOP_TIMEOUT_MS = 5_000;

/** A running server the tests connect to. */
export interface TestServer {
  /** Connection string, for example `mongodb://127.0.0.1:40123/?directConnection=true`. */
  readonly uri: string;
  /** True when the server comes from `MONGODB_URI` and this helper does not control it. */
  readonly external: boolean;
  /** Stops the server and removes its data folder; safe to call twice. */
  stop(): Promise<void>;
  /** Kills the server process with SIGKILL, as a crash would; throws for an external server. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and data folder, after `kill`. */
  restart(): Promise<void>;
}

let binaryPromise: Promise<string> | undefined;

function candidateBinary(goPath: string | undefined): string {
  const fromEnvironment = process.env.FERRETDB_BIN;
  if (fromEnvironment !== undefined && fromEnvironment !== '') return fromEnvironment;

  const fromGoPath = goPath === undefined ? undefined : join(goPath, 'bin', 'ferretdb');
  if (fromGoPath !== undefined && existsSync(fromGoPath)) return fromGoPath;

  return join(homedir(), 'go', 'bin', 'ferretdb');
}

async function goPath(): Promise<string | undefined> {
  try {
    const { stdout } = await execute('go', ['env', 'GOPATH']);
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

async function failsWithMissingVersion(binary: string): Promise<boolean> {
  try {
    await execute(binary, ['--version']);
    return false;
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT') {
      throw new Error(
        `FerretDB binary not found at ${binary}; run ` +
          '`go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`, set FERRETDB_BIN, ' +
          'or set MONGODB_URI to a running server',
      );
    }
    return (failure.stderr ?? '').includes('version.txt');
  }
}

async function buildEmbeddedServer(): Promise<string> {
  mkdirSync(join(ROOT, '.data', 'ferretdb-server'), { recursive: true });
  const temporary = `${EMBEDDED_BINARY}.${process.pid}.tmp`;

  await execute('go', ['build', '-o', temporary, '.'], { cwd: EMBEDDED_SOURCE });
  renameSync(temporary, EMBEDDED_BINARY);

  return EMBEDDED_BINARY;
}

async function resolveBinary(): Promise<string> {
  const binary = candidateBinary(await goPath());
  if (!(await failsWithMissingVersion(binary))) return binary;

  console.warn(
    `${binary} panics because it was built without build/version/version.txt; ` +
      `using FerretDB v1.24.2 through its embeddable package (${EMBEDDED_SOURCE}) instead`,
  );
  return buildEmbeddedServer();
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

async function waitUntilReady(uri: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;

  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`FerretDB exited during start-up (${child.exitCode ?? child.signalCode}):\n${output()}`);
    }

    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 500 });
    try {
      await client.db('admin').command({ ping: 1 });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await client.close();
    }
  }

  throw new Error(`FerretDB did not accept connections within ${START_TIMEOUT_MS} ms:\n${output()}`);
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);

  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function externalServer(uri: string): TestServer {
  return {
    uri,
    external: true,
    stop: async () => {},
    kill: async () => {
      throw new Error('cannot kill the server behind MONGODB_URI; unset it to run this test');
    },
    restart: async () => {
      throw new Error('cannot restart the server behind MONGODB_URI; unset it to run this test');
    },
  };
}

/** Starts a FerretDB server, or returns the `MONGODB_URI` server when that is set. */
export async function startTestServer(): Promise<TestServer> {
  const external = process.env.MONGODB_URI;
  if (external !== undefined && external !== '') return externalServer(external);

  binaryPromise ??= resolveBinary();
  const binary = await binaryPromise;
  const dataDir = mkdtempSync(join(tmpdir(), 'qynpqc-ferretdb-'));
  const address = `127.0.0.1:${await freePort()}`;
  const uri = `mongodb://${address}/?directConnection=true`;

  let child: ChildProcess | undefined;
  let removed = false;

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined) return;

    running.kill(signal);
    if (!(await waitForExit(running, STOP_TIMEOUT_MS))) {
      running.kill('SIGKILL');
      await waitForExit(running, STOP_TIMEOUT_MS);
    }
  };

  const launch = async (): Promise<void> => {
    const started = spawn(binary, serverArguments(dataDir, address), {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    started.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child = started;

    try {
      await waitUntilReady(uri, started, () => stderr);
    } catch (error) {
      await halt('SIGKILL');
      throw error;
    }
  };

  const stop = async (): Promise<void> => {
    await halt('SIGTERM');
    if (!removed) {
      removed = true;
      rmSync(dataDir, { recursive: true, force: true });
    }
  };

  try {
    await launch();
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    uri,
    external: false,
    stop,
    kill: () => halt('SIGKILL'),
    restart: async () => {
      await halt('SIGTERM');
      await launch();
    },
  };
}

function serverArguments(dataDir: string, address: string): string[] {
  return [
    '--handler=sqlite',
    `--sqlite-url=file:${dataDir}/`,
    `--listen-addr=${address}`,
    `--state-dir=${dataDir}`,
    '--telemetry=disable',
    '--debug-addr=-',
    '--log-level=warn',
  ];
}
