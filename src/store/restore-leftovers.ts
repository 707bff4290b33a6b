/**
 * Collections that an interrupted restore leaves behind. Restore loads each collection under
 * `restore_<id>_<name>`, and on servers without `dropTarget` renames the old collection to
 * `restore_<id>_replaced_<name>` during the swap. A crash or a lost server can leave either, with
 * the bcrypt hashes and `refreshTokenHash` values of the backup in it.
 */
import type { Db } from 'mongodb';
import type { StoreContext } from './context.js';

/** `restore_`, the 8 hexadecimal digits of one run, an optional `replaced_`, the target name. */
const LEFTOVER_NAME = /^restore_([0-9a-f]{8})_(replaced_)?(.+)$/;

/** A collection left by a restore that did not finish. */
export interface RestoreLeftover {
  /** Collection name, for example `restore_1a2b3c4d_users`. */
  name: string;
  /**
   * `staging`: a copy of the backup being loaded, safe to drop. `replaced`: the collection that
   * held the target's name before the swap, possibly its only copy, so it is never dropped.
   */
  kind: 'staging' | 'replaced';
  /** Collection the restore was writing. */
  target: string;
  /** Number of documents in the collection. */
  count: number;
}

/** Returns the staging and replaced collections in `db` whose names restore generates. */
export async function findRestoreLeftovers(db: Db): Promise<RestoreLeftover[]> {
  const collections = await db.listCollections({}, { nameOnly: true }).toArray();
  const leftovers: RestoreLeftover[] = [];

  for (const { name } of collections) {
    const match = LEFTOVER_NAME.exec(name);
    if (match === null) continue;

    const count = await db.collection(name).countDocuments({});
    const kind = match[2] === undefined ? 'staging' : 'replaced';
    leftovers.push({ name, kind, target: match[3]!, count });
  }
  return leftovers.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Drops the staging collections of earlier restores and logs each one with its document count.
 * Logs a warning for each replaced collection and keeps it. Returns the leftovers found.
 */
export async function dropRestoreLeftovers(context: StoreContext): Promise<RestoreLeftover[]> {
  // NOTE: nothing marks a restore as running. A restore into the same database in another
  // process loses its staging collections here and fails at its count check or at a rename,
  // possibly after it replaced some collections, so run one restore per database at a time.
  const leftovers = await findRestoreLeftovers(context.db);
  const database = context.db.databaseName;

  for (const leftover of leftovers) {
    const fields = { database, collection: leftover.name, documents: leftover.count };
    if (leftover.kind === 'replaced') {
      context.logger.warn(
        { ...fields, target: leftover.target },
        'an interrupted restore left the previous collection under this name; kept it, so ' +
          'rename it back or drop it by hand',
      );
      continue;
    }
    await context.db.dropCollection(leftover.name);
    context.logger.info(fields, 'dropped the staging collection of an interrupted restore');
  }
  return leftovers;
}
