/**
 * Starts the whole demo: the page files, MongoDB (FerretDB unless a URI is given), the user
 * store, the SDK and the HTTP server on 127.0.0.1. `npm run demo` and the tests both go
 * through {@link startDemo}.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import { loadPqc } from '../../src/index.js';
import { createRequestListener } from './app.js';
import { ChallengeStore } from './challenges.js';
import { createClientErrorListener } from './client-errors.js';
import { startFerretDb } from './ferretdb.js';
import type { FerretDbProcess } from './ferretdb.js';
import { SessionStore } from './sessions.js';
import { loadStaticFiles } from './static-files.js';
import { openStoreUsers } from './store-users.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Default database name. */
export const DEFAULT_DATABASE = 'qynauth_demo';
/** How often expired challenges and sessions are deleted, in milliseconds. */
const SWEEP_INTERVAL_MS = 60_000;
/** Milliseconds a client gets to send a whole request before the server drops it. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Milliseconds a client gets to send the request headers. */
const HEADERS_TIMEOUT_MS = 10_000;

/** Options of {@link startDemo}. */
export interface DemoOptions {
  logger: Logger;
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** MongoDB connection string; without it the demo starts FerretDB in `dataDirectory`. */
  mongodbUri?: string;
  /** FerretDB's SQLite directory. Default: .data/demo-ferretdb in the repository. */
  dataDirectory?: string;
  /** Database name. Default: {@link DEFAULT_DATABASE}. */
  databaseName?: string;
  /** Clock in milliseconds since the epoch. Default: Date.now. */
  now?: () => number;
  /** Built page (rollup output). Default: dist/demo. */
  pageDirectory?: string;
  /** SDK browser build served under /sdk/. Default: dist/browser. */
  sdkDirectory?: string;
  /** Milliseconds between timed sweeps of expired challenges and sessions. Default: 60 000. */
  sweepIntervalMs?: number;
}

/** A running demo. */
export interface RunningDemo {
  /** Base URL ending in `/`, for example `http://127.0.0.1:8080/`. */
  readonly url: string;
  /** Connection string of the database server. */
  readonly mongodbUri: string;
  /** The database the demo writes to. */
  readonly db: Db;
  /** Stops the HTTP server, closes the database connection and stops FerretDB if it started it. */
  close(): Promise<void>;
}

/** Starts the demo and resolves once it accepts requests. */
export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const staticFiles = await loadStaticFiles(
    options.pageDirectory ?? join(ROOT, 'dist', 'demo'),
    options.sdkDirectory ?? join(ROOT, 'dist', 'browser'),
  );

  let ferretDb: FerretDbProcess | undefined;
  let client: MongoClient | undefined;
  const cleanUp = async (): Promise<void> => {
    await client?.close();
    await ferretDb?.stop();
  };

  try {
    let mongodbUri = options.mongodbUri;
    if (mongodbUri === undefined) {
      ferretDb = await startFerretDb(
        options.dataDirectory ?? join(ROOT, '.data', 'demo-ferretdb'),
        logger,
      );
      mongodbUri = ferretDb.uri;
    }
    client = await MongoClient.connect(mongodbUri);
    const db = client.db(options.databaseName ?? DEFAULT_DATABASE);
    const users = await openStoreUsers(db, logger);

    const challenges = new ChallengeStore(db, now);
    await challenges.createIndexes();
    const services = {
      users,
      challenges,
      sessions: new SessionStore(db, now),
      pqc: await loadPqc(),
      now,
    };
    const server = createServer(
      { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: HEADERS_TIMEOUT_MS },
      createRequestListener(services, staticFiles, logger),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    server.on('error', (error) => logger.error({ err: error }, 'http server error'));
    server.on('clientError', createClientErrorListener(logger));
    const { port } = server.address() as AddressInfo;

    const sweeper = setInterval(() => {
      Promise.all([services.challenges.sweep(), services.sessions.sweep()]).then(
        ([challenges, sessions]) => {
          if (challenges + sessions > 0)
            logger.debug({ challenges, sessions }, 'expired records deleted');
        },
        (error: unknown) => logger.error({ err: error }, 'deleting expired records failed'),
      );
    }, options.sweepIntervalMs ?? SWEEP_INTERVAL_MS);
    sweeper.unref();

    const url = `http://127.0.0.1:${port}/`;
    logger.info(
      { url, database: db.databaseName, ferretDb: ferretDb !== undefined },
      'demo server started',
    );

    let closing: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closing ??= (async () => {
        clearInterval(sweeper);
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await cleanUp();
        logger.info({ url }, 'demo server stopped');
      })();
      return closing;
    };
    return { url, mongodbUri, db, close };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
