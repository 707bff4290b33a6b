/**
 * The enrollment commands: enroll one user or every user without keys, rotate a user's keys,
 * and import the former QynAuth users. The database stores public keys only, so the secret keys
 * go to files in `--out`, readable by the owner only, unless the operator discards them.
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { Command } from 'commander';
import { ObjectId } from 'mongodb';
import { loadPqc } from '../core/pqc.js';
import type { PqcInstance } from '../core/pqc.js';
import { createPqcPool } from '../pool/index.js';
import { bulkEnroll } from '../store/bulk-enroll.js';
import type { StoreContext } from '../store/context.js';
import { PqcError } from '../errors.js';
import { DatabaseError, StoreValidationError } from '../store/errors.js';
import { readQynAuthExport } from '../store/import-records.js';
import { importQynAuthUsers } from '../store/import-users.js';
import { userKeyPairId } from '../store/key-records.js';
import type { UserKeyPairs } from '../store/key-source.js';
import { generateUserKeyPairs, zeroUserKeyPairs } from '../store/key-source.js';
import { KeyStore } from '../store/keys.js';
import type { StoredKey } from '../store/keys.js';
import { USER_KEM_ALGORITHM, USER_SIGNATURE_ALGORITHM } from '../store/schema.js';
import { CommandError } from './command-error.js';
import { positiveInteger, withDatabase, withDatabaseOptions } from './database.js';
import type { DatabaseOptions } from './database.js';
import { firstExistingPath, nonEmptyPath, writeTextFile } from './files.js';
import { createProgressReporter } from './progress.js';

const DAY_MS = 24 * 60 * 60 * 1000;

interface KeyFileOptions {
  out?: string;
  force?: boolean;
  discardSecretKeys?: boolean;
  lifetimeDays: number;
}

function positiveNumber(name: string): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0) {
      throw new StoreValidationError(`${name} must be a positive number, got ${text}`);
    }
    return value;
  };
}

function keyFileOptions(command: Command): Command {
  return command
    .option(
      '-o, --out <dir>',
      'folder to write the secret keys to, as PKCS#8 PEM files (mode 0600)',
      nonEmptyPath('--out'),
    )
    .option('--force', 'replace key files that already exist in --out instead of stopping')
    .option('--discard-secret-keys', 'store the public keys only and throw the secret keys away')
    .option('--lifetime-days <days>', 'days until pqcKeyExpiresAt', positiveNumber('--lifetime-days'), 365);
}

function requireDestination(options: KeyFileOptions): void {
  if (options.out === undefined && options.discardSecretKeys !== true) {
    throw new StoreValidationError(
      'the secret keys would be lost: pass --out DIR to write them, or --discard-secret-keys',
    );
  }
}

type KeyFile = [name: string, text: string, secret: boolean];

/**
 * Returns the files of one user's key pairs: each private key as a PKCS#8 PEM of its seed, each
 * public key as an SPKI PEM, and the key id.
 */
function userKeyFiles(pqc: PqcInstance, keyId: string, pairs: UserKeyPairs): KeyFile[] {
  const kem = pqc.kem(USER_KEM_ALGORITHM);
  const signature = pqc.signature(USER_SIGNATURE_ALGORITHM);

  return [
    ['kem-private.pem', kem.exportPrivateKey(pairs.kem, 'pkcs8-pem'), true],
    ['kem-public.pem', kem.exportPublicKey(pairs.kem.publicKey, 'spki-pem'), false],
    ['signature-private.pem', signature.exportPrivateKey(pairs.signature, 'pkcs8-pem'), true],
    ['signature-public.pem', signature.exportPublicKey(pairs.signature.publicKey, 'spki-pem'), false],
    ['key-id', keyId, false],
  ];
}

/** A key file written under a temporary name, and the name it gets once the database write succeeded. */
interface StagedFile {
  temporary: string;
  final: string;
}

/** Name of a staged key file: `.NAME.PID.ID.tmp`, where `PID.ID.tmp` is shared by one set. */
const STAGED_FILE = /^\.(.+)\.(\d+\.[0-9a-f]{8}\.tmp)$/;

async function removeStagedFiles(files: readonly StagedFile[]): Promise<void> {
  for (const file of files) await rm(file.temporary, { force: true });
}

/**
 * Writes the key files of `email` to new files under temporary names in `directory`, secret keys
 * with mode 0600. Unless `force` is set, it first throws `CommandError` when a key file already
 * exists under its final name, because the rename into place would replace it. On a failed write
 * it removes what it wrote and throws `CommandError`.
 */
async function stageUserKeys(
  pqc: PqcInstance,
  directory: string,
  email: string,
  keyId: string,
  pairs: UserKeyPairs,
  force: boolean,
): Promise<StagedFile[]> {
  const files = userKeyFiles(pqc, keyId, pairs);
  if (!force) {
    const existing = await firstExistingPath(files.map(([name]) => join(directory, name)));
    if (existing !== undefined) {
      throw new CommandError(
        `${existing} already exists, so no keys were stored for ${email}; pass --force to ` +
          'replace the key files, or pick another --out',
      );
    }
  }

  const suffix = `${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  const staged: StagedFile[] = [];
  try {
    for (const [name, text, secret] of files) {
      const file = { temporary: join(directory, `.${name}.${suffix}`), final: join(directory, name) };
      await writeTextFile(file.temporary, text, secret, { force: false });
      staged.push(file);
    }
    return staged;
  } catch (error) {
    await removeStagedFiles(staged).catch(() => {});
    throw new CommandError(
      `could not write the key files to ${directory}: ${(error as Error).message}; nothing was ` +
        'changed in the database. Pass --out with a folder you can write to, then rerun the command',
      { cause: error },
    );
  }
}

/**
 * Renames staged key files into place; throws `CommandError` naming the files left behind.
 * NOTE: `rename` replaces a file created under a final name after {@link stageUserKeys} checked it.
 */
async function moveIntoPlace(files: readonly StagedFile[], email: string, keyId: string): Promise<void> {
  for (const [index, file] of files.entries()) {
    try {
      await rename(file.temporary, file.final);
    } catch (error) {
      const left = files.slice(index).map((staged) => `${staged.temporary} -> ${staged.final}`);
      throw new CommandError(
        `the keys of ${email} are stored in the database with key id ${keyId}, but moving the ` +
          `key files into place failed: ${(error as Error).message}; rename by hand: ${left.join(', ')}`,
        { cause: error },
      );
    }
  }
}

function registerEnroll(program: Command): void {
  keyFileOptions(withDatabaseOptions(program.command('enroll')))
    .description(
      'generate ML-KEM-768 and ML-DSA-65 key pairs for one user (--email) or for every user ' +
        'without keys (--all-missing) and store their public halves',
    )
    .option('--email <email>', 'the user to enroll')
    .option('--all-missing', 'enroll every user without keys, in batches, resumable after a crash')
    .option(
      '--workers <count>',
      'worker threads for --all-missing (default: one per CPU)',
      positiveInteger('--workers', 'a whole number of worker threads such as 4, or leave it out for one per CPU'),
    )
    .option(
      '--batch-size <count>',
      'users per batch for --all-missing',
      positiveInteger('--batch-size', 'a whole number of users per batch such as 500'),
      500,
    )
    .action(
      async (
        options: DatabaseOptions &
          KeyFileOptions & { email?: string; allMissing?: boolean; workers?: number; batchSize: number },
      ) => {
        if ((options.email === undefined) === (options.allMissing !== true)) {
          throw new StoreValidationError('pass exactly one of --email EMAIL and --all-missing');
        }
        requireDestination(options);

        if (options.email !== undefined) {
          await enrollOne(options, options.email, 'enroll');
        } else {
          await enrollAllMissing(options);
        }
      },
    );

  keyFileOptions(withDatabaseOptions(program.command('rotate')))
    .description('replace a user\'s key pairs with new ones; the old public keys stay in pqcKeys as retired')
    .requiredOption('--email <email>', 'the user whose keys to rotate')
    .action(async (options: DatabaseOptions & KeyFileOptions & { email: string }) => {
      requireDestination(options);
      await enrollOne(options, options.email, 'rotate');
    });
}

/**
 * Enrolls or rotates one user. The key files are written under temporary names before the
 * database write and renamed into place after it, so a failed file write changes nothing in the
 * database and a failed database write leaves no key files behind.
 */
async function enrollOne(
  options: DatabaseOptions & KeyFileOptions,
  email: string,
  operation: 'enroll' | 'rotate',
): Promise<void> {
  const pqc = await loadPqc();
  await withDatabase(options, async ({ context, logger }) => {
    const keys = new KeyStore(context, { keyLifetimeMs: options.lifetimeDays * DAY_MS });
    const [pairs] = await generateUserKeyPairs(pqc, 1);
    try {
      const publicKeys = { kemPublicKey: pairs!.kem.publicKey, signaturePublicKey: pairs!.signature.publicKey };
      const keyId = userKeyPairId(publicKeys);
      const staged =
        options.out === undefined
          ? []
          : await stageUserKeys(pqc, options.out, email, keyId, pairs!, options.force === true);

      let stored: StoredKey;
      try {
        stored = await keys.registerPublicKeys({ email }, publicKeys.kemPublicKey, publicKeys.signaturePublicKey, {
          rotate: operation === 'rotate',
        });
      } catch (error) {
        await removeStagedFiles(staged);
        throw databaseWriteError(error, operation, email, keyId, staged.length > 0);
      }
      await moveIntoPlace(staged, email, stored.keyId);

      logger.info({ userId: stored.userId, keyId: stored.keyId, previousKeyId: stored.previousKeyId }, `${operation} done`);
      const where = options.out === undefined ? 'secret keys discarded' : `secret keys in ${options.out}`;
      console.log(`${email}: key id ${stored.keyId}, expires ${stored.expiresAt.toISOString()}, ${where}`);
    } finally {
      zeroUserKeyPairs(pairs!);
    }
  });
}

/**
 * Returns the error to report when storing the public keys failed. A rejection by the store (the
 * user is unknown or already has keys) is returned unchanged, because nothing was written. Any
 * other failure may have happened after the server applied the write, so the message explains how
 * to check.
 */
function databaseWriteError(
  error: unknown,
  operation: 'enroll' | 'rotate',
  email: string,
  keyId: string,
  filesRemoved: boolean,
): unknown {
  if (error instanceof PqcError && error.code !== 'ERR_DATABASE') return error;

  const files = filesRemoved ? 'the key files were removed' : 'no key files were written';
  return new DatabaseError(
    `${operation} of ${email} failed while writing to the database: ${(error as Error).message}; ` +
      `${files}. Once the server is reachable, check the user's pqcKeyId: if it is ${keyId}, ` +
      `run qynpqc rotate --email ${email} to replace the keys, otherwise rerun this command`,
    { cause: error },
  );
}

function userDirectory(out: string, userId: ObjectId): string {
  return join(out, userId.toHexString());
}

/**
 * Enrolls every user without keys. With --out, each batch's key files are staged under temporary
 * names before its database write and renamed into place for the users it enrolled. Files that a
 * failed earlier run left staged are settled first: kept for users whose pqcKeyId matches them,
 * removed for the others.
 */
async function enrollAllMissing(
  options: DatabaseOptions & KeyFileOptions & { workers?: number; batchSize: number },
): Promise<void> {
  const pqc = await loadPqc();
  const pool = await createPqcPool(options.workers === undefined ? {} : { size: options.workers });

  try {
    await withDatabase(options, async ({ context, logger }) => {
      const out = options.out;
      if (out !== undefined) {
        const settled = await settleStagedKeyFiles(context, out);
        if (settled.kept + settled.removed > 0) {
          logger.info(settled, 'settled key files staged by an earlier run');
        }
      }

      const progress = createProgressReporter({ logger });
      try {
        const summary = await bulkEnroll(context, {
          keySource: pool,
          batchSize: options.batchSize,
          keyLifetimeMs: options.lifetimeDays * DAY_MS,
          onProgress: (update) => progress.update(update),
          stageKeys:
            out === undefined
              ? undefined
              : async (user, pairs) => {
                  const files = await stageUserKeys(
                    pqc,
                    userDirectory(out, user.userId),
                    user.email,
                    user.keyId,
                    pairs,
                    options.force === true,
                  );
                  return {
                    commit: () => moveIntoPlace(files, user.email, user.keyId),
                    discard: () => removeStagedFiles(files),
                  };
                },
        });
        progress.stop();

        logger.info({ ...summary, timings: summary.timings }, 'bulk enrollment finished');
        console.log(
          `enrolled ${summary.enrolled} of ${summary.total} users without keys in ` +
            `${(summary.durationMs / 1000).toFixed(1)} s (${summary.usersPerSecond.toFixed(0)} users/s); ` +
            `${summary.conflicts} enrolled by another writer, ${summary.skipped} skipped, ${summary.failed} failed`,
        );
        if (summary.skipped + summary.failed > 0) {
          console.log('run the command again to enroll the users that were skipped or failed');
          process.exitCode = 1;
        }
      } catch (error) {
        progress.stop();
        throw stagedFilesHint(error, out);
      }
    });
  } finally {
    await pool.close();
  }
}

/** Adds to a database error of bulk enrollment where the staged key files of its last batch are. */
function stagedFilesHint(error: unknown, out: string | undefined): unknown {
  if (out === undefined || !(error instanceof DatabaseError)) return error;
  return new DatabaseError(
    `${error.message}. Key files of the last batch may be staged under temporary names in ` +
      `${out}; rerun the command with the same --out to keep those of enrolled users and remove the rest`,
    { cause: error },
  );
}

/** Counts of the staged key file sets that {@link settleStagedKeyFiles} kept and removed. */
interface SettledFiles {
  kept: number;
  removed: number;
}

/**
 * Settles key files that an interrupted run staged in `out`: one folder per user id, and in it
 * sets of `.NAME.SUFFIX` files sharing one suffix. A set whose staged key id is the user's
 * current pqcKeyId is renamed into place, and any other set is removed.
 */
async function settleStagedKeyFiles(context: StoreContext, out: string): Promise<SettledFiles> {
  const settled: SettledFiles = { kept: 0, removed: 0 };
  for (const folder of await listDirectory(out)) {
    if (!ObjectId.isValid(folder) || folder.length !== 24) continue;

    const directory = join(out, folder);
    const sets = new Map<string, StagedFile[]>();
    for (const entry of await listDirectory(directory)) {
      const match = STAGED_FILE.exec(entry);
      if (match === null) continue;
      const files = sets.get(match[2]!) ?? [];
      files.push({ temporary: join(directory, entry), final: join(directory, match[1]!) });
      sets.set(match[2]!, files);
    }
    if (sets.size === 0) continue;

    const user = await context.users.findOne(
      { _id: new ObjectId(folder) },
      { projection: { email: 1, pqcKeyId: 1 } },
    );
    for (const files of sets.values()) {
      const keyIdFile = files.find((file) => file.final.endsWith(`${sep}key-id`));
      const stagedKeyId = keyIdFile === undefined ? undefined : (await readFile(keyIdFile.temporary, 'utf8')).trim();
      if (user !== null && stagedKeyId !== undefined && user.pqcKeyId === stagedKeyId) {
        await moveIntoPlace(files, user.email, stagedKeyId);
        settled.kept += 1;
      } else {
        await removeStagedFiles(files);
        settled.removed += 1;
      }
    }
  }
  return settled;
}

/** Lists the entries of `directory`, or none when it does not exist. */
async function listDirectory(directory: string): Promise<string[]> {
  try {
    return await readdir(directory);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
}

function registerImport(program: Command): void {
  withDatabaseOptions(program.command('import-users'))
    .description(
      'import the former QynAuth users from a JSON export: link to existing users by email, ' +
        'create the others, and report every record',
    )
    .argument('<file>', 'JSON export: an array of { id, email, passwordHash | password, ... }')
    .option('--report <file>', 'write the outcome of every record to this file as JSON')
    .action(async (file: string, options: DatabaseOptions & { report?: string }) => {
      const records = await readQynAuthExport(file);
      await withDatabase(options, async ({ context, logger }) => {
        const report = await importQynAuthUsers(context, records);
        for (const outcome of report.outcomes) {
          if (outcome.outcome === 'conflict' || outcome.outcome === 'invalid') {
            console.log(`record ${outcome.index} (${outcome.email ?? 'no email'}): ${outcome.outcome}: ${outcome.reason ?? ''}`);
          }
        }
        if (options.report !== undefined) {
          await writeFile(options.report, `${JSON.stringify(report, null, 2)}\n`);
        }

        const counts = Object.entries(report.counts).map(([kind, count]) => `${count} ${kind}`);
        logger.info({ file, counts: report.counts }, 'import finished');
        console.log(`${records.length} records: ${counts.join(', ')}`);
        process.exitCode = report.counts.conflict + report.counts.invalid > 0 ? 1 : 0;
      });
    });
}

/** Adds the enroll, rotate and import-users commands to `program`. */
export function registerKeyCommands(program: Command): void {
  registerEnroll(program);
  registerImport(program);
}
