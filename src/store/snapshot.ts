/**
 * Snapshots of a database for comparisons around a migration.
 *
 * A snapshot records, per collection, the document count, how many documents contain each
 * top-level field with each BSON type, and the index definitions. It is taken from the database
 * or from a backup file, and saved as JSON. {@link compareSnapshots} lists what differs between
 * two snapshots and separates the changes a PQC migration makes (PQC fields, the store's own
 * collections) from changes to anything else, which are errors. It also records each user's key
 * id, so that a comparison finds users whose keys a migration lost.
 */
import { BSON } from 'mongodb';
import type { Document } from 'mongodb';
import { defaultBackupCollections, scanBackup } from './backup.js';
import type { StoreContext } from './context.js';
import { StoreValidationError } from './errors.js';
import { ADD_PQC_FIELDS_ID } from './migrations/001-add-pqc-fields.js';
import {
  COLLECTIONS,
  PQC_FIELDS,
  UNIQUE_OPTIONAL_FIELDS,
} from './schema.js';

const { EJSON } = BSON;

/** One collection in a snapshot. */
export interface CollectionSnapshot {
  name: string;
  count: number;
  /** Top-level field → BSON type name (`string`, `date`, `null`, ...) → number of documents. */
  fields: Record<string, Record<string, number>>;
  /** Index definitions as canonical Extended JSON, without `v` and `ns`, sorted by name. */
  indexes: Document[];
}

/** Key ids per user and the store's records needed to tell a lost key from a removed one. */
export interface KeyHolderSnapshot {
  /** Canonical Extended JSON of each user's `_id` → that user's `pqcKeyId`, or null for none. */
  userKeyIds: Record<string, string | null>;
  /** Ids of the `pqcKeys` entries with status `retired`: keys rotated or removed by the store. */
  retiredKeyIds: string[];
  /** Ids of the migrations in the changelog (`pqcMigrations`). */
  appliedMigrations: string[];
}

/** Counts, field types and indexes of several collections at one time. */
export interface DatabaseSnapshot {
  database: string;
  /** ISO 8601 time the snapshot was taken, or the backup's creation time. */
  takenAt: string;
  /** Origin of the snapshot: the database or a backup file. */
  source: 'database' | 'backup';
  collections: CollectionSnapshot[];
  /** Key ids per user; missing in snapshots saved by earlier versions, which skip that check. */
  keyHolders?: KeyHolderSnapshot;
}

/** `_bsontype` of the bson package's classes → the type name `$type` uses. */
const BSON_TYPE_NAMES: Readonly<Record<string, string>> = {
  ObjectId: 'objectId',
  Binary: 'binData',
  Long: 'long',
  Int32: 'int',
  Double: 'double',
  Decimal128: 'decimal',
  Timestamp: 'timestamp',
  BSONRegExp: 'regex',
  Code: 'javascript',
  MinKey: 'minKey',
  MaxKey: 'maxKey',
  BSONSymbol: 'symbol',
  DBRef: 'object',
};

/**
 * Returns the BSON type name of a value read with `promoteValues: false`, as `$type` spells it.
 * A plain JavaScript number, as the driver returns with promotion on, is named `int` when it is
 * a 32-bit integer and `double` otherwise, which may not be the stored type.
 */
export function bsonTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') {
    return Number.isInteger(value) && Math.abs(value) < 2 ** 31 ? 'int' : 'double';
  }
  if (typeof value === 'bigint') return 'long';
  if (value instanceof Date) return 'date';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Uint8Array) return 'binData';
  if (value instanceof RegExp) return 'regex';

  const bsonType = (value as { _bsontype?: unknown })._bsontype;
  if (typeof bsonType === 'string') return BSON_TYPE_NAMES[bsonType] ?? bsonType;
  return 'object';
}

/** Orders strings by UTF-16 code units, the same on every machine, unlike `localeCompare`. */
function compareCodeUnits(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;

  const entries = Object.entries(value as Record<string, unknown>);
  entries.sort(([a], [b]) => compareCodeUnits(a, b));
  return Object.fromEntries(entries.map(([key, inner]) => [key, sortedKeys(inner)]));
}

/** Returns `value` as canonical Extended JSON with object keys sorted, to hash or compare. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortedKeys(EJSON.serialize(value, { relaxed: false })));
}

/** Returns the definitions with their options sorted; the order inside `key` matters and stays. */
function canonicalIndexes(indexes: readonly Document[]): Document[] {
  const definitions = indexes.map(({ v: _version, ns: _namespace, key, ...options }) => {
    const sorted = sortedKeys(EJSON.serialize(options, { relaxed: false })) as Document;
    const definition: Document = { key: EJSON.serialize(key, { relaxed: false }), ...sorted };
    return definition;
  });
  return definitions.sort((a, b) => String(a.name).localeCompare(String(b.name)));
}

class CollectionCounter {
  readonly fields: Record<string, Record<string, number>> = {};
  count = 0;

  add(document: Document): void {
    this.count += 1;
    for (const [field, value] of Object.entries(document)) {
      const types = (this.fields[field] ??= {});
      const type = bsonTypeName(value);
      types[type] = (types[type] ?? 0) + 1;
    }
  }
}

class KeyHolderCollector {
  private readonly userKeyIds: Record<string, string | null> = {};
  private readonly retiredKeyIds = new Set<string>();
  private readonly appliedMigrations = new Set<string>();

  add(collection: string, document: Document): void {
    if (collection === COLLECTIONS.users) {
      const keyId: unknown = document.pqcKeyId;
      this.userKeyIds[canonicalJson(document._id)] = typeof keyId === 'string' ? keyId : null;
    } else if (collection === COLLECTIONS.pqcKeys && document.status === 'retired') {
      this.retiredKeyIds.add(String(document._id));
    } else if (collection === COLLECTIONS.migrations) {
      this.appliedMigrations.add(String(document._id));
    }
  }

  snapshot(): KeyHolderSnapshot {
    return {
      userKeyIds: this.userKeyIds,
      retiredKeyIds: [...this.retiredKeyIds].sort(compareCodeUnits),
      appliedMigrations: [...this.appliedMigrations].sort(compareCodeUnits),
    };
  }
}

/** Options of {@link takeSnapshot}. */
export interface SnapshotOptions {
  /** Collections to include. Default: `users` and the store's collections, as backups take. */
  collections?: readonly string[];
}

/** Reads every document of the collections and returns their snapshot. */
export async function takeSnapshot(
  context: StoreContext,
  options: SnapshotOptions = {},
): Promise<DatabaseSnapshot> {
  const names = options.collections ?? (await defaultBackupCollections(context.db));
  const listed = await context.db.listCollections({}, { nameOnly: true }).toArray();
  const existing = new Set(listed.map((collection) => collection.name));
  const collections: CollectionSnapshot[] = [];
  const keyHolders = new KeyHolderCollector();

  for (const name of names) {
    const counter = new CollectionCounter();
    let indexes: Document[] = [];
    if (existing.has(name)) {
      const collection = context.db.collection(name);
      indexes = await collection.listIndexes().toArray();
      const exact = { promoteValues: false, promoteLongs: false, promoteBuffers: false } as const;
      for await (const document of collection.find({}, exact)) {
        counter.add(document);
        keyHolders.add(name, document);
      }
    }
    const { count, fields } = counter;
    collections.push({ name, count, fields, indexes: canonicalIndexes(indexes) });
  }

  return {
    database: context.db.databaseName,
    takenAt: new Date().toISOString(),
    source: 'database',
    collections,
    keyHolders: keyHolders.snapshot(),
  };
}

/** Reads a backup file, checking it as a restore would, and returns a snapshot of its contents. */
export async function snapshotFromBackup(file: string): Promise<DatabaseSnapshot> {
  const counters = new Map<string, CollectionCounter>();
  const keyHolders = new KeyHolderCollector();
  const header = await scanBackup(file, (collection, document) => {
    let counter = counters.get(collection);
    if (counter === undefined) {
      counter = new CollectionCounter();
      counters.set(collection, counter);
    }
    counter.add(document);
    keyHolders.add(collection, document);
  });

  return {
    database: header.database,
    takenAt: header.createdAt.toISOString(),
    source: 'backup',
    collections: header.collections.map((c) => ({
      name: c.name,
      count: c.count,
      fields: counters.get(c.name)?.fields ?? {},
      indexes: canonicalIndexes(c.indexes),
    })),
    keyHolders: keyHolders.snapshot(),
  };
}

/** Kind of one difference between two snapshots. */
export type SnapshotDifferenceKind =
  | 'collection-added'
  | 'collection-removed'
  | 'count-changed'
  | 'field-added'
  | 'field-removed'
  | 'type-added'
  | 'type-removed'
  | 'type-count-changed'
  | 'index-added'
  | 'index-removed'
  | 'index-changed'
  | 'key-lost';

/** One difference between two snapshots, described in words. */
export interface SnapshotDifference {
  kind: SnapshotDifferenceKind;
  collection: string;
  /** Field or index name, when the difference concerns one. */
  subject?: string;
  message: string;
}

/** Result of {@link compareSnapshots}. */
export interface SnapshotComparison {
  /** Changes of PQC fields, of their indexes and of the store's own collections. */
  pqcChanges: SnapshotDifference[];
  /** Every other change; a migration that preserves data produces none. */
  errors: SnapshotDifference[];
}

/** Receives one difference and whether it belongs to the PQC changes. */
type Report = (difference: SnapshotDifference, pqc: boolean) => void;

const STORE_COLLECTIONS = new Set<string>(
  Object.values(COLLECTIONS).filter((name) => name !== COLLECTIONS.users),
);
const PQC_FIELD_SET = new Set<string>(PQC_FIELDS);
const INDEXED_PQC_FIELDS = new Set<string>([...PQC_FIELDS, 'qynAuthUserId']);

function isUniqueOptional(field: string): boolean {
  return (UNIQUE_OPTIONAL_FIELDS as readonly string[]).includes(field);
}

function describeTypes(types: Record<string, number>): string {
  return Object.entries(types)
    .map(([type, count]) => `${type} ×${count}`)
    .join(', ');
}

function isPqcIndex(definition: Document | undefined): boolean {
  const fields = Object.keys((definition?.key ?? {}) as Record<string, unknown>);
  return fields.length > 0 && fields.every((field) => INDEXED_PQC_FIELDS.has(field));
}

function compareTypes(
  collection: string,
  field: string,
  old: Record<string, number>,
  now: Record<string, number>,
  report: Report,
): void {
  const at = `${collection}.${field}`;
  for (const type of new Set([...Object.keys(old), ...Object.keys(now)])) {
    const was = old[type] ?? 0;
    const is = now[type] ?? 0;
    if (was === is) continue;

    // Migration 001 removes explicit nulls from the unique optional fields.
    const nullRemoval = type === 'null' && is < was && isUniqueOptional(field);
    const pqc = PQC_FIELD_SET.has(field) || nullRemoval;
    if (was === 0 || is === 0) {
      const kind = was === 0 ? 'type-added' : 'type-removed';
      const verb = was === 0 ? 'gained' : 'lost';
      const message = `${at} ${verb} type ${type} (${was} → ${is} documents)`;
      report({ kind, collection, subject: field, message }, pqc);
    } else {
      const message = `${at}: ${type} in ${was} documents before, ${is} after`;
      report({ kind: 'type-count-changed', collection, subject: field, message }, pqc);
    }
  }
}

function compareFields(
  before: CollectionSnapshot,
  after: CollectionSnapshot,
  report: Report,
): void {
  const collection = after.name;
  const fields = new Set([...Object.keys(before.fields), ...Object.keys(after.fields)]);

  for (const field of [...fields].sort()) {
    const old = before.fields[field];
    const now = after.fields[field];
    const pqc = PQC_FIELD_SET.has(field);
    const at = `${collection}.${field}`;

    if (old === undefined && now !== undefined) {
      const message = `${at} appeared (${describeTypes(now)})`;
      report({ kind: 'field-added', collection, subject: field, message }, pqc);
    } else if (old !== undefined && now === undefined) {
      const onlyNulls = isUniqueOptional(field) && Object.keys(old).every((t) => t === 'null');
      const message = `${at} disappeared (was ${describeTypes(old)})`;
      report({ kind: 'field-removed', collection, subject: field, message }, pqc || onlyNulls);
    } else if (old !== undefined && now !== undefined) {
      compareTypes(collection, field, old, now, report);
    }
  }
}

function compareIndexes(
  before: CollectionSnapshot,
  after: CollectionSnapshot,
  report: Report,
): void {
  const collection = after.name;
  const old = new Map(before.indexes.map((index) => [String(index.name), index]));
  const now = new Map(after.indexes.map((index) => [String(index.name), index]));

  for (const name of [...new Set([...old.keys(), ...now.keys()])].sort()) {
    const was = old.get(name);
    const is = now.get(name);
    const pqc = isPqcIndex(was) || isPqcIndex(is);
    const at = `${collection} index ${name}`;

    if (was === undefined) {
      const message = `${at} was added: ${JSON.stringify(is)}`;
      report({ kind: 'index-added', collection, subject: name, message }, pqc);
    } else if (is === undefined) {
      const message = `${at} was removed: ${JSON.stringify(was)}`;
      report({ kind: 'index-removed', collection, subject: name, message }, pqc);
    } else if (JSON.stringify(was) !== JSON.stringify(is)) {
      const message = `${at} changed from ${JSON.stringify(was)} to ${JSON.stringify(is)}`;
      report({ kind: 'index-changed', collection, subject: name, message }, pqc);
    }
  }
}

/**
 * Reports each user who had a `pqcKeyId` before and has none after, while the migration that adds
 * the field is applied and `pqcKeys` does not show that key as retired. A key the store rotated
 * or removed is retired there, so what remains is a key lost outside the store, for example by a
 * rollback whose saved fields were not restored.
 */
function compareKeyHolders(
  before: DatabaseSnapshot,
  after: DatabaseSnapshot,
  report: Report,
): void {
  const old = before.keyHolders;
  const now = after.keyHolders;
  if (old === undefined || now === undefined) return;
  if (!now.appliedMigrations.includes(ADD_PQC_FIELDS_ID)) return;

  const retired = new Set(now.retiredKeyIds);
  const users = Object.keys(old.userKeyIds).sort(compareCodeUnits);
  for (const user of users) {
    const keyId = old.userKeyIds[user];
    // A user deleted since is reported by the document count.
    if (typeof keyId !== 'string' || now.userKeyIds[user] !== null) continue;
    if (retired.has(keyId)) continue;

    const message =
      `user ${user} had pqcKeyId ${keyId} before and has none after, and pqcKeys does not ` +
      'show that key as retired; restore the user\'s PQC fields from the backup';
    report(
      { kind: 'key-lost', collection: COLLECTIONS.users, subject: 'pqcKeyId', message },
      false,
    );
  }
}

/**
 * Lists what differs between `before` and `after`. Differences in PQC fields, in indexes over
 * PQC fields or `qynAuthUserId`, in removed explicit nulls of `pqcKeyId` and `qynAuthUserId`, and
 * anywhere in the store's own collections go to `pqcChanges`. Every other one is an error, and so
 * is a user whose key id was lost rather than rotated or removed by the store.
 */
export function compareSnapshots(
  before: DatabaseSnapshot,
  after: DatabaseSnapshot,
): SnapshotComparison {
  const comparison: SnapshotComparison = { pqcChanges: [], errors: [] };
  const old = new Map(before.collections.map((c) => [c.name, c]));
  const now = new Map(after.collections.map((c) => [c.name, c]));

  for (const name of [...new Set([...old.keys(), ...now.keys()])].sort()) {
    const report: Report = (difference, pqc) => {
      const pqcChange = pqc || STORE_COLLECTIONS.has(name);
      (pqcChange ? comparison.pqcChanges : comparison.errors).push(difference);
    };
    const was = old.get(name);
    const is = now.get(name);

    if (was === undefined || is === undefined) {
      const kind = was === undefined ? 'collection-added' : 'collection-removed';
      const verb = was === undefined ? 'appeared' : 'disappeared';
      const count = (was ?? is)!.count;
      const message = `collection ${name} ${verb} (${count} documents)`;
      report({ kind, collection: name, message }, false);
      continue;
    }
    if (was.count !== is.count) {
      const message = `collection ${name} had ${was.count} documents, now ${is.count}`;
      report({ kind: 'count-changed', collection: name, message }, false);
    }
    compareFields(was, is, report);
    compareIndexes(was, is, report);
    if (name === COLLECTIONS.users) compareKeyHolders(before, after, report);
  }
  return comparison;
}

/** Returns `snapshot` as JSON text, to save next to a backup. */
export function snapshotToJson(snapshot: DatabaseSnapshot): string {
  return `${JSON.stringify(snapshot, null, 2)}\n`;
}

function isCollectionSnapshot(value: CollectionSnapshot): boolean {
  return (
    typeof value.name === 'string' &&
    Number.isInteger(value.count) &&
    typeof value.fields === 'object' &&
    Array.isArray(value.indexes)
  );
}

function isKeyHolderSnapshot(value: KeyHolderSnapshot): boolean {
  return (
    typeof value.userKeyIds === 'object' &&
    value.userKeyIds !== null &&
    Array.isArray(value.retiredKeyIds) &&
    Array.isArray(value.appliedMigrations)
  );
}

/** Parses a snapshot saved by {@link snapshotToJson}; throws `StoreValidationError` otherwise. */
export function snapshotFromJson(text: string): DatabaseSnapshot {
  let value: DatabaseSnapshot;
  try {
    value = JSON.parse(text) as DatabaseSnapshot;
  } catch (error) {
    throw new StoreValidationError(`the snapshot is not JSON: ${(error as Error).message}`);
  }

  const valid =
    typeof value?.database === 'string' &&
    Array.isArray(value.collections) &&
    value.collections.every(isCollectionSnapshot) &&
    (value.keyHolders === undefined || isKeyHolderSnapshot(value.keyHolders));
  if (!valid) {
    throw new StoreValidationError(
      'the text is not a snapshot: it lacks database or a collections list with name, count, ' +
        'fields and indexes',
    );
  }
  return value;
}
