/** Reading and writing the base64 key files the CLI works on. */
import { randomUUID } from 'node:crypto';
import { lstat, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InvalidEncodingError } from '../errors.js';
import { CommandError } from './command-error.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Permissions of a file that contains a secret key or a shared secret: owner read and write. */
const SECRET_FILE_MODE = 0o600;
/** Permissions of a public key, ciphertext or signature file. */
const PUBLIC_FILE_MODE = 0o644;

/** Decodes strict base64 (whitespace allowed between characters) from `text`. */
export function decodeBase64(text: string, source: string): Uint8Array {
  const compact = text.replace(/\s+/g, '');
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) {
    throw new InvalidEncodingError(
      `${source} is not valid base64; expected the output of "qynpqc keygen" or another base64 file`,
    );
  }
  return new Uint8Array(Buffer.from(compact, 'base64'));
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/**
 * Reads a whole file. Unlike `readFile`, it sets the error's `path` when a read fails without one
 * (EISDIR for a folder), so the message the CLI prints names the file.
 */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    const failure = error as NodeJS.ErrnoException;
    if (failure.code !== undefined && failure.path === undefined) failure.path = path;
    throw error;
  }
}

/** Reads a UTF-8 text file, naming `path` in the error like {@link readFileBytes}. */
export async function readTextFile(path: string): Promise<string> {
  return Buffer.from(await readFileBytes(path)).toString('utf8');
}

/** Reads a base64 file and decodes it. */
export async function readBase64File(path: string): Promise<Uint8Array> {
  return decodeBase64(await readTextFile(path), path);
}

/**
 * Returns a commander parser for a path option that rejects an empty value, which would
 * otherwise mean the current folder or no file at all.
 */
export function nonEmptyPath(option: string): (text: string) => string {
  return (text) => {
    if (text.trim() === '') {
      throw new CommandError(
        `${option} must name a path, got ${JSON.stringify(text)}; pass ${option} with a file or ` +
          'folder path',
      );
    }
    return text;
  };
}

/** A text file for {@link writeTextFiles} to write. */
export interface TextFile {
  /** Destination path. */
  path: string;
  /** Content; a final newline is added when it is missing. */
  text: string;
  /** Whether the file gets mode 0600 instead of 0644. */
  secret: boolean;
}

/**
 * Returns the first of `paths` that exists, as a file, folder or symlink (broken or not), or
 * `undefined` when none does.
 */
export async function firstExistingPath(paths: readonly string[]): Promise<string | undefined> {
  for (const path of paths) {
    try {
      await lstat(path);
      return path;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    }
  }
  return undefined;
}

/**
 * Writes `files`, creating their folders, and never writes into an existing file.
 *
 * Without `force`, an existing destination rejects the whole call with `CommandError` before any
 * file is written, and each file is created exclusively (`wx`), which also fails on a symlink. On
 * a failure the files this call created are removed. With `force`, each file is first written to
 * a new temporary file in its folder and synced, then renamed over its destination. The rename
 * replaces a symlink instead of following it.
 */
export async function writeTextFiles(
  files: readonly TextFile[],
  options: { force: boolean },
): Promise<void> {
  for (const file of files) await mkdir(dirname(file.path), { recursive: true });

  if (options.force) {
    await replaceFiles(files);
    return;
  }

  const existing = await firstExistingPath(files.map((file) => file.path));
  if (existing !== undefined) {
    throw new CommandError(
      `${existing} already exists; pass --force to replace it, or pick another --out`,
    );
  }

  const created: string[] = [];
  try {
    for (const file of files) {
      await createFile(file.path, file.text, file.secret);
      created.push(file.path);
    }
  } catch (error) {
    for (const path of created) await rm(path, { force: true });
    throw existsAsCommandError(error);
  }
}

/** Writes one file like {@link writeTextFiles}. */
export async function writeTextFile(
  path: string,
  text: string,
  secret: boolean,
  options: { force: boolean },
): Promise<void> {
  await writeTextFiles([{ path, text, secret }], options);
}

/** Writes each file to a temporary name and renames it over its destination. */
async function replaceFiles(files: readonly TextFile[]): Promise<void> {
  const suffix = `${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  const staged: Array<{ temporary: string; final: string }> = [];
  try {
    for (const file of files) {
      const temporary = join(dirname(file.path), `.${basename(file.path)}.${suffix}`);
      await createFile(temporary, file.text, file.secret);
      staged.push({ temporary, final: file.path });
    }
    while (staged.length > 0) {
      const next = staged[0]!;
      await rename(next.temporary, next.final);
      staged.shift();
    }
  } catch (error) {
    for (const file of staged) await rm(file.temporary, { force: true });
    throw error;
  }
}

/**
 * Creates `path` exclusively with the mode for `secret`, writes `text` with a final newline and
 * syncs it to disk. Removes the file again when the write fails.
 */
async function createFile(path: string, text: string, secret: boolean): Promise<void> {
  const handle = await open(path, 'wx', secret ? SECRET_FILE_MODE : PUBLIC_FILE_MODE);
  let written = false;
  try {
    await handle.writeFile(text.endsWith('\n') ? text : `${text}\n`);
    await handle.sync();
    written = true;
  } finally {
    await handle.close();
    if (!written) await rm(path, { force: true });
  }
}

/**
 * Converts EEXIST from an exclusive create into the `CommandError` of the existence check. It
 * happens when another process creates the file between the check and the create.
 */
function existsAsCommandError(error: unknown): unknown {
  const failure = error as NodeJS.ErrnoException;
  if (failure.code !== 'EEXIST' || failure.syscall !== 'open') return error;
  return new CommandError(
    `${failure.path} already exists; pass --force to replace it, or pick another --out`,
    { cause: error },
  );
}

/** Verb phrases for the `syscall` of a failed call, used in "could not VERB PATH" messages. */
const FILE_SYSTEM_ACTIONS: Readonly<Record<string, string>> = {
  open: 'open',
  read: 'read',
  mkdir: 'create the folder',
  rename: 'replace',
  scandir: 'list the folder',
  unlink: 'remove',
  lstat: 'check',
  stat: 'check',
};

/**
 * Returns a one-line message for a file system error (ENOENT, EACCES, EPERM, EEXIST, EISDIR,
 * ENOTDIR) that names the path, what failed and what to do, or `undefined` for any other error.
 */
export function describeFileSystemError(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const failure = error as NodeJS.ErrnoException & { dest?: string };
  const syscall = failure.syscall ?? '';
  const path = (syscall === 'rename' ? failure.dest : undefined) ?? failure.path ?? 'a path';
  const action = FILE_SYSTEM_ACTIONS[syscall] ?? 'access';

  switch (failure.code) {
    case 'ENOENT':
      return `file not found: ${path}`;
    case 'EACCES':
    case 'EPERM':
      return (
        `permission denied: could not ${action} ${path}; check the permissions of the file and ` +
        'its folder, or pick another path'
      );
    case 'EEXIST':
      return syscall === 'mkdir'
        ? `could not create the folder ${path}: ${path} is a file; pass a folder path, or move the file away`
        : `could not create ${path}: it already exists; pick another path, or remove the file`;
    case 'EISDIR':
      return `could not ${action} ${path}: it is a folder, not a file; pass the path of a file`;
    case 'ENOTDIR':
      return (
        `could not ${action} ${path}: a folder in the path is a file; pass a path whose parent ` +
        'folders are folders'
      );
    default:
      return undefined;
  }
}
