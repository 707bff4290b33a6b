/**
 * Import of the former QynAuth in-memory users (format in import-records.ts) into the shared
 * `users` collection.
 *
 * A record whose normalised email matches an existing user links to that user: `qynAuthUserId`
 * is set when the user has none, and nothing else changes, so the Portal Backend's password and
 * lockout state stay as they are. A record with a new email becomes a new user through
 * `UserStore.insertUser`, with its bcrypt hash and lockout fields. Every record gets exactly one
 * outcome, and a second import of the same export changes nothing (every record is then
 * `unchanged`, `conflict` or `invalid`).
 */
import bcrypt from 'bcryptjs';
import type { ObjectId } from 'mongodb';
import type { StoreContext } from './context.js';
import { StoreConflictError, StoreValidationError } from './errors.js';
import { invalidReason, validateImportRecord } from './import-records.js';
import type { ValidImportRecord } from './import-records.js';
import { isDuplicateKey } from './lease.js';
import type { UserDocument } from './schema.js';
import { claimQynAuthUserId, releaseQynAuthUserId } from './unique-values.js';
import { updateUser } from './user-writes.js';
import { DEFAULT_BCRYPT_ROUNDS, UserStore } from './users.js';

/** Records whose existing users are read with one query. */
const LOOKUP_CHUNK_SIZE = 500;
/** Conflicts and invalid records logged one by one; the rest are only counted. */
const MAX_LOGGED_PROBLEMS = 20;

/** Kind of outcome of one record. */
export type ImportOutcomeKind = 'created' | 'linked' | 'unchanged' | 'conflict' | 'invalid';

/** The outcome of one record of the export. */
export interface ImportOutcome {
  /** Position of the record in the export. */
  index: number;
  /** The record's `id`, when it is a string. */
  id: string | null;
  /** The record's email as given, when it is a string. */
  email: string | null;
  outcome: ImportOutcomeKind;
  /** The user document created, linked or found. */
  userId?: ObjectId;
  /** Reason the record is a conflict or invalid. */
  reason?: string;
  /** Fields of the record that were not imported. */
  ignoredFields?: string[];
}

/** Result of {@link importQynAuthUsers}: one outcome per record, in export order. */
export interface ImportReport {
  outcomes: ImportOutcome[];
  /** Number of outcomes of each kind; they add up to the number of records. */
  counts: Record<ImportOutcomeKind, number>;
}

/** Options of {@link importQynAuthUsers}. */
export interface ImportOptions {
  /** bcrypt cost factor for records with a plain `password`, 4 to 13. Default 10. */
  bcryptRounds?: number;
}

type Outcome = Omit<ImportOutcome, 'index' | 'id' | 'email'>;
type KnownUser = Pick<UserDocument, '_id' | 'email' | 'qynAuthUserId'>;

/** Users of one chunk of records, by normalised email and by `qynAuthUserId`. */
class UserIndex {
  private readonly byEmail = new Map<string, KnownUser>();
  private readonly byQynAuthUserId = new Map<string, KnownUser>();

  add(user: KnownUser): void {
    this.byEmail.set(user.email, user);
    if (typeof user.qynAuthUserId === 'string') this.byQynAuthUserId.set(user.qynAuthUserId, user);
  }

  email(email: string): KnownUser | undefined {
    return this.byEmail.get(email);
  }

  holder(qynAuthUserId: string): KnownUser | undefined {
    return this.byQynAuthUserId.get(qynAuthUserId);
  }
}

function field(raw: unknown, name: 'id' | 'email'): string | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const value = (raw as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : null;
}

/** Imports `records` (parsed with `readQynAuthExport`) and reports every record's outcome. */
export async function importQynAuthUsers(
  context: StoreContext,
  records: readonly unknown[],
  options: ImportOptions = {},
): Promise<ImportReport> {
  if (!Array.isArray(records)) {
    throw new StoreValidationError(
      'records must be an array; parse the export with readQynAuthExport',
    );
  }
  const rounds = options.bcryptRounds ?? DEFAULT_BCRYPT_ROUNDS;
  const importer = new Importer(context, new UserStore(context, { bcryptRounds: rounds }), rounds);
  const report: ImportReport = {
    outcomes: [],
    counts: { created: 0, linked: 0, unchanged: 0, conflict: 0, invalid: 0 },
  };

  for (let start = 0; start < records.length; start += LOOKUP_CHUNK_SIZE) {
    const chunk = records.slice(start, start + LOOKUP_CHUNK_SIZE);
    const valid = chunk.map((raw) => {
      try {
        return validateImportRecord(raw);
      } catch (error) {
        return invalidReason(error);
      }
    });
    const index = await importer.lookUp(valid.filter((item) => typeof item !== 'string'));

    for (const [offset, item] of valid.entries()) {
      const raw = chunk[offset];
      const result: Outcome =
        typeof item === 'string'
          ? { outcome: 'invalid', reason: item }
          : await importer.importRecord(item, index);
      const outcome: ImportOutcome = {
        index: start + offset,
        id: field(raw, 'id'),
        email: field(raw, 'email'),
        ...result,
      };
      if (typeof item !== 'string' && item.ignoredFields.length > 0) {
        outcome.ignoredFields = item.ignoredFields;
      }
      report.outcomes.push(outcome);
      report.counts[outcome.outcome] += 1;
      importer.logProblem(outcome);
    }
  }

  context.logger.info({ records: records.length, ...report.counts }, 'imported QynAuth users');
  return report;
}

/** The per-record steps of an import. */
class Importer {
  private problemsLogged = 0;

  constructor(
    private readonly context: StoreContext,
    private readonly users: UserStore,
    private readonly rounds: number,
  ) {}

  /** Reads the users matching the records' emails or ids with one query. */
  async lookUp(records: readonly ValidImportRecord[]): Promise<UserIndex> {
    const index = new UserIndex();
    if (records.length === 0) return index;

    const found = await this.context.users
      .find(
        {
          $or: [
            { email: { $in: records.map((record) => record.email) } },
            { qynAuthUserId: { $in: records.map((record) => record.id) } },
          ],
        },
        { projection: { _id: 1, email: 1, qynAuthUserId: 1 } },
      )
      .toArray();
    for (const user of found) index.add(user);
    return index;
  }

  async importRecord(record: ValidImportRecord, index: UserIndex): Promise<Outcome> {
    const existing = index.email(record.email);
    if (existing !== undefined) return this.link(record, existing, index);

    const holder = index.holder(record.id);
    if (holder !== undefined) return this.takenConflict(record, holder);
    return this.create(record, index);
  }

  logProblem(outcome: ImportOutcome): void {
    if (outcome.outcome !== 'conflict' && outcome.outcome !== 'invalid') return;
    this.problemsLogged += 1;
    if (this.problemsLogged > MAX_LOGGED_PROBLEMS) return;

    this.context.logger.warn(
      { index: outcome.index, id: outcome.id, outcome: outcome.outcome, reason: outcome.reason },
      this.problemsLogged === MAX_LOGGED_PROBLEMS
        ? 'QynAuth record not imported; further ones are only counted in the report'
        : 'QynAuth record not imported',
    );
  }

  private async create(record: ValidImportRecord, index: UserIndex): Promise<Outcome> {
    const passwordHash = record.passwordHash ?? (await bcrypt.hash(record.password!, this.rounds));
    try {
      const user = await this.users.insertUser({
        email: record.email,
        passwordHash,
        qynAuthUserId: record.id,
        ...(record.createdAt === undefined ? {} : { createdAt: record.createdAt }),
        ...(record.lastLoginAt === undefined ? {} : { lastLoginAt: record.lastLoginAt }),
        ...(record.failedLoginAttempts === undefined
          ? {}
          : { failedLoginAttempts: record.failedLoginAttempts }),
        ...(record.lockUntil === undefined ? {} : { lockUntil: record.lockUntil }),
      });
      index.add(user);
      return { outcome: 'created', userId: user._id };
    } catch (error) {
      if (!(error instanceof StoreConflictError)) throw error;
      return this.afterInsertConflict(record, index, error);
    }
  }

  /** Another writer took the email or the id between the look-up and the insert. */
  private async afterInsertConflict(
    record: ValidImportRecord,
    index: UserIndex,
    error: StoreConflictError,
  ): Promise<Outcome> {
    const projection = { _id: 1, email: 1, qynAuthUserId: 1 } as const;
    const byEmail = await this.context.users.findOne({ email: record.email }, { projection });
    if (byEmail !== null) {
      index.add(byEmail);
      return this.link(record, byEmail, index);
    }
    const holder = await this.context.users.findOne({ qynAuthUserId: record.id }, { projection });
    if (holder !== null) return this.takenConflict(record, holder);
    return { outcome: 'conflict', reason: error.message };
  }

  private async link(
    record: ValidImportRecord,
    user: KnownUser,
    index: UserIndex,
  ): Promise<Outcome> {
    if (user.qynAuthUserId === record.id) return { outcome: 'unchanged', userId: user._id };
    if (typeof user.qynAuthUserId === 'string') {
      return {
        outcome: 'conflict',
        userId: user._id,
        reason:
          `user ${user.email} is linked to qynAuthUserId ${JSON.stringify(user.qynAuthUserId)}, ` +
          `not ${JSON.stringify(record.id)}; resolve which QynAuth account it belongs to`,
      };
    }
    const holder = index.holder(record.id);
    if (holder !== undefined && !holder._id.equals(user._id)) {
      return this.takenConflict(record, holder);
    }

    try {
      await claimQynAuthUserId(this.context, record.id, user._id);
    } catch (error) {
      if (!(error instanceof StoreConflictError)) throw error;
      return { outcome: 'conflict', userId: user._id, reason: error.message };
    }
    return this.setLink(record, user, index);
  }

  /** Sets `qynAuthUserId` on `user` unless a concurrent writer set one first. */
  private async setLink(
    record: ValidImportRecord,
    user: KnownUser,
    index: UserIndex,
  ): Promise<Outcome> {
    let outcome: Outcome;
    try {
      outcome = await updateUser(this.context, { _id: user._id }, ['qynAuthUserId'], (current) => {
        if (current.qynAuthUserId === record.id) {
          return { change: null, result: { outcome: 'unchanged', userId: user._id } as Outcome };
        }
        if (typeof current.qynAuthUserId === 'string') {
          return {
            change: null,
            result: {
              outcome: 'conflict',
              userId: user._id,
              reason:
                `user ${user.email} was linked to qynAuthUserId ` +
                `${current.qynAuthUserId} meanwhile`,
            } as Outcome,
          };
        }
        return {
          change: { set: { qynAuthUserId: record.id, updatedAt: new Date() } },
          result: { outcome: 'linked', userId: user._id } as Outcome,
        };
      });
    } catch (error) {
      await releaseQynAuthUserId(this.context, record.id, user._id);
      if (!isDuplicateKey(error)) throw error;
      return {
        outcome: 'conflict',
        userId: user._id,
        reason: `qynAuthUserId ${JSON.stringify(record.id)} already belongs to another user`,
      };
    }

    if (outcome.outcome === 'conflict') {
      await releaseQynAuthUserId(this.context, record.id, user._id);
    }
    if (outcome.outcome === 'linked') index.add({ ...user, qynAuthUserId: record.id });
    return outcome;
  }

  private takenConflict(record: ValidImportRecord, holder: KnownUser): Outcome {
    return {
      outcome: 'conflict',
      reason:
        `qynAuthUserId ${JSON.stringify(record.id)} already belongs to user ${holder.email}, ` +
        `not ${record.email}; fix the export or the existing user`,
    };
  }
}
