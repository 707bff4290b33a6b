/**
 * Starts FerretDB v1.24.2 with the SQLite backend for the tests and the demo: data in a given
 * directory, a free 127.0.0.1 port, no telemetry and no debug HTTP listener.
 *
 * The binary is `FERRETDB_BIN` when that passes `--version`. It runs as it is, so a stock build
 * lacks the `_id` index fix. Otherwise the launcher uses the embedded server that build.ts builds
 * into .data/ on first use, with the fix from patch.ts that lets lookups, updates and deletes by
 * `_id` use the index (stock v1.24.2 scans the whole collection for them). `go install` of
 * v1.24.2 gives a binary that panics at start-up because its module zip lacks
 * build/version/version.txt, so such a FERRETDB_BIN falls back to the embedded server too.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { buildEmbeddedServer } from './build.js';
import { SILENT_LOGGER } from './logger.js';
import type { FerretDbLogger } from './logger.js';

const execute = promisify(execFile);

/** Milliseconds to wait for a started server to accept connections. */
const START_TIMEOUT_MS = 30_000;
/** Milliseconds `stop` waits for an exit after SIGTERM before it sends SIGKILL. */
const STOP_TIMEOUT_MS = 5_000;
/** Pause between connection attempts while the server starts, in milliseconds. */
const READY_POLL_MS = 100;
/** Milliseconds `--version` may take before FERRETDB_BIN counts as failing. */
const VERSION_TIMEOUT_MS = 10_000;
/** Ports tried when another process takes the chosen free port before FerretDB binds it. */
const PORT_ATTEMPTS = 3;
/** Characters of FerretDB's stderr kept for error messages. */
const STDERR_TAIL_CHARS = 4_000;

/** Options of {@link launchFerretDb}. */
export interface FerretDbOptions {
  /** Directory for the SQLite files and FerretDB's state file, created when missing. */
  readonly dataDirectory: string;
  /** Logger for starts, stops, exits, fallbacks and builds. Default: silent. */
  readonly logger?: FerretDbLogger;
}

/** A FerretDB process started by {@link launchFerretDb}. */
export interface FerretDbServer {
  /** Connection string, for example `mongodb://127.0.0.1:40123/?directConnection=true`. */
  readonly uri: string;
  /** Process id of the running server, or undefined after `stop` or `kill`. */
  readonly pid: number | undefined;
  /** Sends SIGTERM, then SIGKILL after five seconds without an exit. Safe to call twice. */
  stop(): Promise<void>;
  /** Kills the process with SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** Stops the server if it runs and starts it again on the same port and data directory. */
  restart(): Promise<void>;
}

let binaryPromise: Promise<string> | undefined;

/**
 * Resolves the FerretDB binary once per process: `FERRETDB_BIN` when it passes `--version`,
 * else the embedded server, built when missing.
 */
export function resolveFerretDbBinary(logger: FerretDbLogger = SILENT_LOGGER): Promise<string> {
  binaryPromise ??= findBinary(logger).catch((error: unknown) => {
    binaryPromise = undefined;
    throw error;
  });
  return binaryPromise;
}

async function findBinary(logger: FerretDbLogger): Promise<string> {
  const configured = process.env['FERRETDB_BIN'];
  if (configured !== undefined && configured !== '') {
    const failure = await versionFailure(configured);
    if (failure === undefined) return configured;

    logger.warn(
      { binary: configured, failure },
      'FERRETDB_BIN failed --version, so the embedded ferretdb server is used instead',
    );
  }
  return buildEmbeddedServer(logger);
}

/** Runs `binary --version` and returns the reason it failed, or undefined when it ran. */
async function versionFailure(binary: string): Promise<string | undefined> {
  try {
    await execute(binary, ['--version'], { timeout: VERSION_TIMEOUT_MS });
    return undefined;
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT') return 'file not found';

    const firstLine = (failure.stderr ?? '').trim().split('\n')[0];
    return firstLine === undefined || firstLine === '' ? failure.message : firstLine;
  }
}

/**
 * Starts FerretDB on a free loopback port with its data in `options.dataDirectory` and resolves
 * once it replies to `ping`.
 */
export async function launchFerretDb(options: FerretDbOptions): Promise<FerretDbServer> {
  const logger = options.logger ?? SILENT_LOGGER;
  const binary = await resolveFerretDbBinary(logger);
  mkdirSync(options.dataDirectory, { recursive: true });

  for (let attempt = 1; ; attempt++) {
    const address = `127.0.0.1:${await freePort()}`;
    const server = new FerretDbChild(binary, address, options.dataDirectory, logger);
    try {
      await server.start();
      return server;
    } catch (error) {
      if (!(error instanceof StartError && error.portInUse) || attempt === PORT_ATTEMPTS) {
        throw error;
      }
      logger.warn(
        { address, attempt },
        'ferretdb port was taken before it could bind, trying another',
      );
    }
  }
}

/** A failed start, with whether the port was taken by another process. */
class StartError extends Error {
  readonly portInUse: boolean;

  constructor(message: string, portInUse: boolean) {
    super(message);
    this.name = 'StartError';
    this.portInUse = portInUse;
  }
}

class FerretDbChild implements FerretDbServer {
  readonly uri: string;
  private child: ChildProcess | undefined;
  private stderrTail = '';

  constructor(
    private readonly binary: string,
    private readonly address: string,
    private readonly dataDirectory: string,
    private readonly logger: FerretDbLogger,
  ) {
    this.uri = `mongodb://${address}/?directConnection=true`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Spawns the process and waits until it replies to `ping`, or kills it on failure. */
  async start(): Promise<void> {
    const child = spawn(this.binary, this.serverArguments(), {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    this.stderrTail = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-STDERR_TAIL_CHARS);
    });
    // A failed spawn sets a negative exitCode, which waitUntilReady reports with this message.
    child.once('error', (error) => {
      this.stderrTail += `\n${this.binary}: ${error.message}`;
    });

    // Kills the server when this Node process exits without stopping it, as a test worker may.
    const killOnExit = (): void => {
      child.kill('SIGKILL');
    };
    process.once('exit', killOnExit);
    child.once('exit', (code, signal) => {
      process.removeListener('exit', killOnExit);
      this.logExit(child, code, signal);
    });

    try {
      await this.waitUntilReady(child);
    } catch (error) {
      await this.halt('SIGKILL');
      throw error;
    }

    this.logger.info(
      {
        ferretDbPid: child.pid,
        address: this.address,
        dataDirectory: this.dataDirectory,
        binary: this.binary,
      },
      'ferretdb started',
    );
  }

  stop(): Promise<void> {
    return this.halt('SIGTERM');
  }

  kill(): Promise<void> {
    return this.halt('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.halt('SIGTERM');
    await this.start();
  }

  private serverArguments(): string[] {
    return [
      '--handler=sqlite',
      `--sqlite-url=file:${this.dataDirectory}/`,
      `--listen-addr=${this.address}`,
      `--state-dir=${this.dataDirectory}`,
      '--telemetry=disable',
      '--debug-addr=-',
      '--log-level=warn',
    ];
  }

  private async waitUntilReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;

    while (Date.now() < deadline) {
      if (hasExited(child)) {
        const output = this.stderrTail;
        throw new StartError(
          `FerretDB exited during start-up (${child.exitCode ?? child.signalCode}) on ` +
            `${this.address}:\n${output}`,
          output.includes('address already in use'),
        );
      }

      const client = new MongoClient(this.uri, { serverSelectionTimeoutMS: 500 });
      try {
        await client.db('admin').command({ ping: 1 });
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
      } finally {
        await client.close();
      }
    }

    throw new StartError(
      `FerretDB start timed out: no connection accepted on ${this.address} within ` +
        `${START_TIMEOUT_MS} ms:\n${this.stderrTail}`,
      false,
    );
  }

  /** Sends `signal`, then SIGKILL when the process has not exited after STOP_TIMEOUT_MS. */
  private async halt(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || hasExited(child)) return;

    child.kill(signal);
    if (await waitForExit(child, STOP_TIMEOUT_MS)) return;

    this.logger.warn({ ferretDbPid: child.pid, signal }, 'ferretdb did not exit; sending SIGKILL');
    child.kill('SIGKILL');
    await waitForExit(child, STOP_TIMEOUT_MS);
  }

  private logExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const fields = { ferretDbPid: child.pid, code, signal };
    if (this.child === child) {
      this.child = undefined;
      this.logger.warn({ ...fields, stderr: this.stderrTail }, 'ferretdb exited unexpectedly');
    } else {
      this.logger.info(fields, 'ferretdb exited');
    }
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);

  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
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
