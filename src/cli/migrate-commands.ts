/** The database maintenance commands: migrate up|down|status, validate, backup and restore. */
import { writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { backupDatabase, findRestoreLeftovers, restoreDatabase } from '../store/backup.js';
import { migrateDown, migrateUp, migrationStatus } from '../store/migrations/runner.js';
import type { MigrationRunReport } from '../store/migrations/index.js';
import {
  checkUserRules,
  compareSnapshots,
  snapshotFromBackup,
  snapshotFromJson,
  snapshotToJson,
  takeSnapshot,
} from '../store/validate.js';
import type { DatabaseSnapshot } from '../store/validate.js';
import { StoreConflictError, StoreValidationError } from '../store/errors.js';
import { positiveInteger, withDatabase, withDatabaseOptions } from './database.js';
import type { DatabaseOptions } from './database.js';
import { nonEmptyPath, readTextFile } from './files.js';

/** Milliseconds, as commander parses them from an option. */
function milliseconds(name: string): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new StoreValidationError(`${name} must be a whole number of milliseconds, got ${text}`);
    }
    return value;
  };
}

function lockOptions(command: Command): Command {
  return command
    .option('--wait <ms>', 'how long to wait for a migration lock another process holds', milliseconds('--wait'), 60_000)
    .option('--lock-ttl <ms>', 'how long the lock lasts unless renewed', milliseconds('--lock-ttl'), 60_000);
}

function printRun(verb: string, report: MigrationRunReport): void {
  if (report.steps.length === 0) {
    console.log(`nothing to ${verb}: the database is up to date`);
    return;
  }
  for (const step of report.steps) {
    const summary = step.summary === null ? '' : ` ${JSON.stringify(step.summary)}`;
    console.log(`${verb === 'apply' ? 'applied' : 'reverted'} ${step.id} in ${step.durationMs} ms${summary}`);
  }
}

async function readSnapshot(file: string): Promise<DatabaseSnapshot> {
  const text = await readTextFile(file);
  return text.trimStart().startsWith('{"format"')
    ? snapshotFromBackup(file)
    : snapshotFromJson(text);
}

type LockFlags = DatabaseOptions & { wait: number; lockTtl: number };

function registerMigrate(program: Command): void {
  const migrate = program.command('migrate').description('apply, revert or list the schema migrations');

  lockOptions(withDatabaseOptions(migrate.command('up')))
    .description('apply every pending migration, or those up to --to')
    .option('--to <id>', 'last migration to apply')
    .option('--backup <file>', 'write a backup of the database to this file first')
    .action(async (options: LockFlags & { to?: string; backup?: string }) => {
      await withDatabase(options, async ({ context, logger }) => {
        if (options.backup !== undefined) {
          const header = await backupDatabase(context, { file: options.backup });
          logger.info({ file: options.backup, collections: header.collections.length }, 'backup written');
        }
        const report = await migrateUp(context, {
          to: options.to,
          waitMs: options.wait,
          lockTtlMs: options.lockTtl,
        });
        printRun('apply', report);
      });
    });

  lockOptions(withDatabaseOptions(migrate.command('down')))
    .description('revert the newest applied migration, or all after --to')
    .option('--to <id>', 'revert every migration after this one, which stays applied')
    .option(
      '--steps <count>',
      'number of migrations to revert, newest first',
      positiveInteger('--steps', 'a whole number of migrations such as 1, or --all'),
    )
    .option('--all', 'revert every applied migration')
    .option('--force', 'revert although the changelog lists migrations this version does not know')
    .action(
      async (options: LockFlags & { to?: string; steps?: number; all?: boolean; force?: boolean }) => {
        await withDatabase(options, async ({ context }) => {
          const report = await migrateDown(context, {
            to: options.to,
            steps: options.all === true ? Infinity : options.steps,
            force: options.force ?? false,
            waitMs: options.wait,
            lockTtlMs: options.lockTtl,
          });
          printRun('revert', report);
        });
      },
    );

  withDatabaseOptions(migrate.command('status'))
    .description('list applied and pending migrations and the lock holder')
    .action(async (options: DatabaseOptions) => {
      await withDatabase(options, async ({ context }) => {
        const status = await migrationStatus(context);
        for (const entry of status.applied) {
          console.log(`applied  ${entry._id}  ${entry.appliedAt.toISOString()}  by ${entry.owner}`);
        }
        for (const id of status.pending) console.log(`pending  ${id}`);
        for (const id of status.unknown) console.log(`unknown  ${id}  (applied by a newer version)`);
        if (status.lock !== null) {
          console.log(`locked by ${status.lock.owner} until ${status.lock.expiresAt.toISOString()}`);
        }
      });
    });
}

function registerValidate(program: Command): void {
  withDatabaseOptions(program.command('validate'))
    .description(
      'check every user against the schema rules and, with --against, compare counts, field ' +
        'types and indexes with a backup or a saved snapshot; exits 1 when something is wrong',
    )
    .option('--against <file>', 'backup file or snapshot JSON taken before a migration')
    .option('--save <file>', 'write the current snapshot as JSON to compare against later')
    .option(
      '--max-violations <count>',
      'list at most this many rule violations',
      positiveInteger('--max-violations', 'a whole number of violations to list, such as 50'),
      50,
    )
    .action(
      async (options: DatabaseOptions & { against?: string; save?: string; maxViolations: number }) => {
        await withDatabase(options, async ({ context }) => {
          let failed = false;

          const rules = await checkUserRules(context, { maxViolations: options.maxViolations });
          for (const violation of rules.violations) {
            console.log(`rule ${violation.rule}: user ${violation.userId}: ${violation.message}`);
          }
          const total = Object.values(rules.counts).reduce((sum, count) => sum + count, 0);
          console.log(`${rules.usersChecked} users checked, ${total} rule violations`);
          failed ||= total > 0;

          const leftovers = await findRestoreLeftovers(context.db);
          for (const leftover of leftovers) {
            const what = leftover.kind === 'staging' ? 'staging copy' : 'previous collection';
            console.log(
              `LEFTOVER: ${leftover.name} (${leftover.count} documents) is the ${what} of ` +
                `${leftover.target} from a restore that did not finish or is still running; the next restore drops ` +
                'staging copies, and a previous collection must be renamed back or dropped by hand',
            );
          }
          failed ||= leftovers.length > 0;

          const snapshot = await takeSnapshot(context);
          if (options.save !== undefined) await writeFile(options.save, snapshotToJson(snapshot));

          if (options.against !== undefined) {
            const comparison = compareSnapshots(await readSnapshot(options.against), snapshot);
            for (const change of comparison.pqcChanges) console.log(`changed: ${change.message}`);
            for (const error of comparison.errors) console.log(`DIFFERS: ${error.message}`);
            console.log(
              `${comparison.pqcChanges.length} changes to PQC fields and collections, ` +
                `${comparison.errors.length} differences elsewhere`,
            );
            failed ||= comparison.errors.length > 0;
          }

          process.exitCode = failed ? 1 : 0;
        });
      },
    );
}

function registerBackup(program: Command): void {
  withDatabaseOptions(program.command('backup'))
    .description('write users and the store collections to a file as canonical Extended JSON')
    .requiredOption(
      '-o, --out <file>',
      'backup file to write; replaced only once it is complete',
      nonEmptyPath('--out'),
    )
    .option('--collection <name...>', 'collections to save instead of the default set')
    .action(async (options: DatabaseOptions & { out: string; collection?: string[] }) => {
      await withDatabase(options, async ({ context }) => {
        const header = await backupDatabase(context, {
          file: options.out,
          collections: options.collection,
        });
        for (const collection of header.collections) {
          console.log(`${collection.name}: ${collection.count} documents, ${collection.indexes.length} indexes`);
        }
        console.log(`wrote ${options.out}`);
      });
    });

  withDatabaseOptions(program.command('restore'))
    .description('restore a backup file; each collection is replaced whole or not at all')
    .requiredOption('-i, --in <file>', 'backup file written by qynpqc backup')
    .option('--collection <name...>', 'restore only these collections from the file')
    .addOption(new Option('--replace', 'replace collections that already hold documents'))
    .action(
      async (options: DatabaseOptions & { in: string; collection?: string[]; replace?: boolean }) => {
        await withDatabase(options, async ({ context }) => {
          const report = await restoreDatabase(context, {
            file: options.in,
            collections: options.collection,
            replace: options.replace ?? false,
          }).catch((error: unknown) => {
            throw withCliOptionNames(error);
          });
          for (const collection of report.collections) {
            const skipped = collection.indexesSkipped.map((index) => `${index.name} (${index.reason})`);
            console.log(
              `${collection.name}: ${collection.count} documents, indexes ${collection.indexesBuilt.join(', ') || 'none'}` +
                (skipped.length > 0 ? `; not built: ${skipped.join(', ')}` : ''),
            );
          }
        });
      },
    );
}

/**
 * Returns `error` with the library option `replace` named as the CLI option `--replace`, when it
 * is the conflict `restoreDatabase` raises for occupied collections.
 */
function withCliOptionNames(error: unknown): unknown {
  if (!(error instanceof StoreConflictError)) return error;
  if (!error.message.includes('pass replace')) return error;

  return new StoreConflictError(error.message.replace('pass replace', 'pass --replace'), {
    cause: error,
  });
}

/** Adds the migrate, validate, backup and restore commands to `program`. */
export function registerMigrateCommands(program: Command): void {
  registerMigrate(program);
  registerValidate(program);
  registerBackup(program);
}
