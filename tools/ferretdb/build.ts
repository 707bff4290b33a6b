/**
 * Builds the embedded FerretDB server (tools/ferretdb/server) against a copy of the pinned
 * FerretDB module that carries the `_id` index fix from patch.ts. The committed go.mod stays
 * unchanged, because a go.work file next to the copy replaces the module and GOWORK points
 * `go build` at that file.
 *
 * The binary is cached in .data/ferretdb-server/ under a hash of main.go, go.mod, go.sum, the
 * patch and the build flags, so a change to any of them builds a new one. Processes that build
 * at once (vitest runs test files in parallel workers) wait on a lock file for the first one,
 * and each build writes to a temporary name that is renamed into place.
 *
 * `node --import tsx tools/ferretdb/build.ts` builds ahead of time and prints the binary's path.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { SILENT_LOGGER, STDERR_ALL } from './logger.js';
import type { FerretDbLogger } from './logger.js';
import {
  FERRETDB_MODULE,
  PATCH_FINGERPRINT,
  applyIdIndexFix,
  copyWritable,
  downloadFerretDbModule,
} from './patch.js';

const execute = promisify(execFile);

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Go source of the embedded server. */
export const SERVER_DIRECTORY = join(ROOT, 'tools', 'ferretdb', 'server');
/** Folder for the built binaries, their lock files and temporary build folders. */
const OUTPUT_DIRECTORY = join(ROOT, '.data', 'ferretdb-server');
/** Files of SERVER_DIRECTORY that the cache key covers. */
const SERVER_FILES = ['main.go', 'go.mod', 'go.sum'];
/**
 * `-trimpath` puts module paths in place of the temporary copy's directory in the compiled
 * packages, so Go's build cache reuses them from one build folder to the next.
 */
const BUILD_FLAGS = ['-trimpath', '-buildvcs=false'];
const BINARY_PREFIX = 'ferretdb-server-';
const BINARY_PATTERN = /^ferretdb-server-[0-9a-f]{16}$/;
const BUILD_FOLDER_PREFIX = 'build-';

/**
 * Milliseconds to wait for another process's build. With a cold Go build cache a build took 56 s
 * on 2 x86-64 cores.
 */
const LOCK_WAIT_MS = 10 * 60_000;
/** Milliseconds between checks while another process builds. */
const LOCK_POLL_MS = 500;
/** Age in milliseconds after which a lock file without a process id counts as abandoned. */
const EMPTY_LOCK_AGE_MS = 10_000;

/** Returns the path of the embedded server binary for the current sources, built or not. */
export function embeddedServerPath(): string {
  const hash = createHash('sha256');
  for (const file of SERVER_FILES) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(join(SERVER_DIRECTORY, file)));
    hash.update('\0');
  }
  hash.update(PATCH_FINGERPRINT);
  hash.update(BUILD_FLAGS.join(' '));

  return join(OUTPUT_DIRECTORY, BINARY_PREFIX + hash.digest('hex').slice(0, 16));
}

/**
 * Builds the embedded server unless the binary for the current sources exists, and returns its
 * path. Needs Go, and the module proxy unless the Go module cache has FerretDB and its
 * dependencies already.
 */
export async function buildEmbeddedServer(logger: FerretDbLogger = SILENT_LOGGER): Promise<string> {
  const binary = embeddedServerPath();
  if (existsSync(binary)) return binary;

  mkdirSync(OUTPUT_DIRECTORY, { recursive: true });
  const release = await acquireBuildLock(`${binary}.lock`, binary, logger);
  if (release === undefined) return binary;

  try {
    if (!existsSync(binary)) await compile(binary, logger);
  } finally {
    release();
  }
  return binary;
}

/**
 * Takes the lock file and returns its release function, or returns undefined once another
 * process has built `binary`. A lock whose process has exited is taken over.
 */
async function acquireBuildLock(
  lockPath: string,
  binary: string,
  logger: FerretDbLogger,
): Promise<(() => void) | undefined> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let waiting = false;

  for (;;) {
    try {
      writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      return () => rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }

    if (existsSync(binary)) return undefined;

    const holder = lockHolder(lockPath);
    if (holder === 'abandoned') {
      // NOTE: two processes that find the same abandoned lock can both take it over, and then
      // both build. The rename into place keeps the result whole; only the work is doubled.
      rmSync(lockPath, { force: true });
      continue;
    }

    if (!waiting) {
      waiting = true;
      logger.info({ lockPath, holder }, 'waiting for another process to build ferretdb');
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${LOCK_WAIT_MS} ms waiting for process ${holder} to build ${binary}. ` +
          `If no build is running, delete ${lockPath} and try again.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
}

/** Process id in the lock file, `abandoned` when that process has exited, or undefined. */
function lockHolder(lockPath: string): number | 'abandoned' | undefined {
  let text: string;
  let ageMs: number;
  try {
    text = readFileSync(lockPath, 'utf8').trim();
    ageMs = Date.now() - statSync(lockPath).mtimeMs;
  } catch {
    return undefined;
  }

  const pid = Number(text);
  if (text === '' || !Number.isInteger(pid)) {
    return ageMs > EMPTY_LOCK_AGE_MS ? 'abandoned' : undefined;
  }
  return isRunning(pid) ? pid : 'abandoned';
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function compile(binary: string, logger: FerretDbLogger): Promise<void> {
  removeLeftovers(binary);
  const started = Date.now();
  logger.info({ source: SERVER_DIRECTORY, binary }, 'building the embedded ferretdb server');

  const workDirectory = mkdtempSync(join(OUTPUT_DIRECTORY, BUILD_FOLDER_PREFIX));
  try {
    const { version, directory } = await downloadFerretDbModule(SERVER_DIRECTORY);
    const moduleCopy = join(workDirectory, `FerretDB@${version}`);
    copyWritable(directory, moduleCopy);
    applyIdIndexFix(moduleCopy, version);

    const workFile = join(workDirectory, 'go.work');
    writeFileSync(workFile, workspace(version, moduleCopy));

    const temporary = join(workDirectory, 'ferretdb-server');
    await runGo(['build', ...BUILD_FLAGS, '-o', temporary, '.'], workFile);
    await checkReplacement(temporary, version);
    renameSync(temporary, binary);
  } finally {
    rmSync(workDirectory, { recursive: true, force: true });
  }

  logger.info({ binary, durationMs: Date.now() - started }, 'embedded ferretdb server built');
}

/** Returns the go.work text: the server module, with FerretDB replaced by the patched copy. */
function workspace(version: string, moduleCopy: string): string {
  const goMod = readFileSync(join(SERVER_DIRECTORY, 'go.mod'), 'utf8');
  const goVersion = /^go (\S+)$/m.exec(goMod)?.[1];
  if (goVersion === undefined) {
    throw new Error(`${join(SERVER_DIRECTORY, 'go.mod')} has no go directive. Add one.`);
  }

  return [
    `go ${goVersion}`,
    '',
    `use ${JSON.stringify(SERVER_DIRECTORY)}`,
    '',
    `replace ${FERRETDB_MODULE} ${version} => ${JSON.stringify(moduleCopy)}`,
    '',
  ].join('\n');
}

async function runGo(args: string[], workFile: string): Promise<void> {
  try {
    await execute('go', args, {
      cwd: SERVER_DIRECTORY,
      env: { ...process.env, GOWORK: workFile },
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new Error(`go ${args.join(' ')} failed in ${SERVER_DIRECTORY}:\n${stderr}`, {
      cause: error,
    });
  }
}

/** Checks through `--version` that the binary links the patched copy, not the cached module. */
async function checkReplacement(binary: string, version: string): Promise<void> {
  const { stdout } = await execute(binary, ['--version']);
  if (!stdout.includes(`FerretDB ${version}, replaced by`)) {
    throw new Error(
      `${binary} links FerretDB from the module cache, not the patched copy, because ` +
        `--version printed ${JSON.stringify(stdout.trim())}. The go.work replace directive ` +
        'did not take effect.',
    );
  }
}

/** Deletes binaries of older sources and the folders of builds that were killed. */
function removeLeftovers(current: string): void {
  for (const entry of readdirSync(OUTPUT_DIRECTORY, { withFileTypes: true })) {
    const path = join(OUTPUT_DIRECTORY, entry.name);
    if (entry.isFile() && BINARY_PATTERN.test(entry.name) && path !== current) {
      rmSync(path, { force: true });
    }
    if (
      entry.isDirectory() &&
      entry.name.startsWith(BUILD_FOLDER_PREFIX) &&
      Date.now() - statSync(path).mtimeMs > LOCK_WAIT_MS
    ) {
      rmSync(path, { recursive: true, force: true });
    }
  }
}

const entryPoint = process.argv[1];
if (entryPoint !== undefined && import.meta.url === pathToFileURL(resolve(entryPoint)).href) {
  buildEmbeddedServer(STDERR_ALL).then(
    (binary) => process.stdout.write(`${binary}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
