/** Shared state of the store's components: collections, the detected server, leases and logger. */
import type { Collection, Db } from 'mongodb';
import { LeaseManager } from './lease.js';
import { SILENT_LOGGER } from './logger.js';
import type { StoreLogger } from './logger.js';
import { COLLECTIONS } from './schema.js';
import type { PqcKeyDocument, UserDocument } from './schema.js';
import { detectServer } from './server.js';
import type { ServerCapabilities, ServerInfo } from './server.js';

/** Options shared by the store's components. */
export interface StoreOptions {
  /** Receives fallbacks, retries and caught errors; the store is silent without it. */
  logger?: StoreLogger;
  /** Replaces detected server capabilities; meant for tests of the MongoDB code paths. */
  capabilities?: Partial<ServerCapabilities>;
  /** Milliseconds a per-user write lease lasts on servers without atomic updates. Default 10 000. */
  userLeaseTtlMs?: number;
  /** Milliseconds to wait for a per-user write lease before `ERR_STORE_CONFLICT`. Default 30 000. */
  userLeaseWaitMs?: number;
}

/** Default lifetime of a per-user write lease, in milliseconds. */
export const DEFAULT_USER_LEASE_TTL_MS = 10_000;
/** Default wait for a per-user write lease, in milliseconds. */
export const DEFAULT_USER_LEASE_WAIT_MS = 30_000;

/** Collections, server information and settings shared by the store's components. */
export interface StoreContext {
  readonly db: Db;
  readonly users: Collection<UserDocument>;
  readonly pqcKeys: Collection<PqcKeyDocument>;
  readonly server: ServerInfo;
  readonly leases: LeaseManager;
  readonly logger: StoreLogger;
  readonly userLeaseTtlMs: number;
  readonly userLeaseWaitMs: number;
}

/** Detects the server behind `db` and returns the context the store's components share. */
export async function createStoreContext(db: Db, options: StoreOptions = {}): Promise<StoreContext> {
  const logger = options.logger ?? SILENT_LOGGER;
  const server = await detectServer(db, logger, options.capabilities);

  return {
    db,
    users: db.collection<UserDocument>(COLLECTIONS.users),
    pqcKeys: db.collection<PqcKeyDocument>(COLLECTIONS.pqcKeys),
    server,
    leases: new LeaseManager(db),
    logger,
    userLeaseTtlMs: options.userLeaseTtlMs ?? DEFAULT_USER_LEASE_TTL_MS,
    userLeaseWaitMs: options.userLeaseWaitMs ?? DEFAULT_USER_LEASE_WAIT_MS,
  };
}
