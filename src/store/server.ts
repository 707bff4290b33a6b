/**
 * Detection of the server behind a connection. FerretDB answers `buildInfo` like MongoDB but adds
 * a `ferretdbVersion` field, and FerretDB v1.24 (SQLite backend) lacks three things the store
 * would otherwise use:
 *
 * - partial indexes and TTL indexes (`createIndexes` fails with code 238, NotImplemented);
 * - atomic single-document updates: an update reads the document, applies the operators in the
 *   server process and writes the whole document back by `_id`, so two concurrent `$inc` on one
 *   document can both read the same value and one increment is lost;
 * - transactions;
 * - commands with 100 or more update or delete statements. v1.24.2 keeps each statement's SQLite
 *   cursor open until the whole command returns (a `defer` inside the loop of its update
 *   handler), and its pool has 100 connections. Such a command therefore waits forever for a
 *   connection and blocks the server: 99 updates by `_id` in one command completed, 100 hung.
 *
 * Inserts against a unique index stay atomic there, because SQLite enforces the constraint. The
 * store therefore coordinates through unique keys on FerretDB and through conditional updates on
 * MongoDB.
 */
import type { Db } from 'mongodb';
import { SILENT_LOGGER } from './logger.js';
import type { StoreLogger } from './logger.js';

/** What the store may rely on from the server. */
export interface ServerCapabilities {
  /** `partialFilterExpression` on indexes is honoured. */
  partialIndexes: boolean;
  /** A conditional `updateOne` is one atomic read-modify-write of the document. */
  atomicUpdates: boolean;
  /** Most update or delete statements the store sends in one command. */
  maxWriteStatements: number;
}

/** MongoDB's `maxWriteBatchSize`: the driver splits larger bulk writes itself. */
const MONGODB_MAX_WRITE_STATEMENTS = 100_000;
/**
 * Statements per write command on FerretDB: well below the 100 that hang it, because other
 * clients' commands draw on the same 100 connections.
 */
const FERRETDB_MAX_WRITE_STATEMENTS = 25;

/** Kind, version and capabilities of a server. */
export interface ServerInfo extends ServerCapabilities {
  /** `ferretdb` when `buildInfo` carries `ferretdbVersion`, else `mongodb`. */
  kind: 'mongodb' | 'ferretdb';
  /** MongoDB version the server reports (FerretDB reports the version it emulates). */
  version: string;
  /** FerretDB's own version, `unknown` for an embedded build; absent on MongoDB. */
  ferretdbVersion?: string;
}

/**
 * Runs `buildInfo` and returns the server's kind and capabilities. `overrides` replaces detected
 * capabilities, for example to run the conditional-update path in tests.
 */
export async function detectServer(
  db: Db,
  logger: StoreLogger = SILENT_LOGGER,
  overrides: Partial<ServerCapabilities> = {},
): Promise<ServerInfo> {
  const build = await db.admin().command({ buildInfo: 1 });
  const version = typeof build.version === 'string' ? build.version : 'unknown';

  if (build.ferretdbVersion === undefined) {
    return {
      kind: 'mongodb',
      version,
      partialIndexes: true,
      atomicUpdates: true,
      maxWriteStatements: MONGODB_MAX_WRITE_STATEMENTS,
      ...overrides,
    };
  }

  // NOTE: the capability gaps were measured on FerretDB v1.24.2 with the SQLite backend; a
  // FerretDB v2 server (PostgreSQL with DocumentDB) is treated the same way, untested.
  const info: ServerInfo = {
    kind: 'ferretdb',
    version,
    ferretdbVersion: String(build.ferretdbVersion),
    partialIndexes: false,
    atomicUpdates: false,
    maxWriteStatements: FERRETDB_MAX_WRITE_STATEMENTS,
    ...overrides,
  };
  logger.info(
    { ferretdbVersion: info.ferretdbVersion, ...overrides },
    'FerretDB detected: unique keys replace partial indexes, leases serialise user updates',
  );
  return info;
}
