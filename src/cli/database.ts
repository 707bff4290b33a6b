/** Connection handling shared by the database commands: `--uri`, `--db`, the logger, errors. */
import { Command, Option } from 'commander';
import { MongoClient, MongoParseError, MongoRuntimeError, MongoServerSelectionError } from 'mongodb';
import type { Db, MongoClientOptions } from 'mongodb';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { createStoreContext } from '../store/context.js';
import type { StoreContext } from '../store/context.js';
import { DatabaseError, StoreValidationError } from '../store/errors.js';
import { CommandError } from './command-error.js';

/**
 * Returns a commander parser for an option that takes a positive integer. It throws
 * `StoreValidationError` naming the option, the value and `hint`, the accepted values.
 */
export function positiveInteger(name: string, hint: string): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isSafeInteger(value) || value < 1) {
      throw new StoreValidationError(
        `${name} must be a positive integer, got ${JSON.stringify(text)}; pass ${hint}`,
      );
    }
    return value;
  };
}

/** Database used when neither `--db` nor the connection string names one. */
export const DEFAULT_DATABASE = 'portal_dev';
/** Milliseconds the driver looks for a reachable server, unless the connection string sets it. */
const SERVER_SELECTION_TIMEOUT_MS = 10_000;

/** The options every database command accepts. */
export interface DatabaseOptions {
  uri?: string;
  db?: string;
  logLevel: string;
}

/** An open connection, the store context on it and the command's logger. */
export interface OpenDatabase {
  client: MongoClient;
  db: Db;
  context: StoreContext;
  logger: Logger;
  /** Closes the connection. */
  close(): Promise<void>;
}

/** Adds `--uri`, `--db` and `--log-level` to `command`. */
export function withDatabaseOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--uri <uri>', 'MongoDB connection string').env('MONGODB_URI').makeOptionMandatory(),
    )
    .option('--db <name>', `database name (default: the one in --uri, else ${DEFAULT_DATABASE})`)
    .addOption(
      new Option('--log-level <level>', 'log level of the JSON log lines on stderr')
        .choices(['debug', 'info', 'warn', 'error', 'silent'])
        .default('info'),
    );
}

/** Returns a pino logger that writes JSON lines to stderr, so stdout stays for results. */
export function createCliLogger(level: string): Logger {
  return pino({ name: 'qynpqc', level }, pino.destination(2));
}

/** Database names have fewer than this many bytes (MongoDB's naming restrictions). */
const MAX_DATABASE_NAME_BYTES = 64;
/** Characters MongoDB rejects in database names on Unix and Linux: `/\. "$` and NUL. */
const DATABASE_NAME_FORBIDDEN = /[/\\. "$\0]/;

/**
 * Returns the database name from `--db`, else from the path of `uri`, else the default. Throws
 * `CommandError` naming the value, the rule and an example when MongoDB would reject the name.
 * The driver checks only for `.`, in `client.db()`.
 */
function databaseName(uri: string, explicit: string | undefined): string {
  if (explicit !== undefined && explicit !== '') return checkDatabaseName(explicit, '--db');

  const path = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]*)/.exec(uri)?.[1] ?? '';
  if (path === '') return DEFAULT_DATABASE;

  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch (error) {
    throw new CommandError(
      `the database name in --uri is not valid percent-encoding: ${JSON.stringify(path)}; ` +
        `encode it correctly or pass --db, for example --db ${DEFAULT_DATABASE}`,
      { cause: error },
    );
  }
  return checkDatabaseName(decoded, 'the database name in --uri');
}

function checkDatabaseName(name: string, source: string): string {
  const forbidden = DATABASE_NAME_FORBIDDEN.exec(name)?.[0];
  const tooLong = Buffer.byteLength(name, 'utf8') >= MAX_DATABASE_NAME_BYTES;
  if (forbidden === undefined && !tooLong) return name;

  const problem = tooLong
    ? `has ${Buffer.byteLength(name, 'utf8')} bytes`
    : `contains ${JSON.stringify(forbidden)}`;
  throw new CommandError(
    `${source} ${JSON.stringify(name)} is not a valid database name: it ${problem}, but a ` +
      `MongoDB database name has fewer than ${MAX_DATABASE_NAME_BYTES} bytes and none of ` +
      `/ \\ . " $, space or NUL; pass a name such as ${DEFAULT_DATABASE}`,
  );
}

function redact(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, '//<credentials>@');
}

/**
 * Creates the client for `uri`. Throws `CommandError` when the driver cannot parse `uri`, with the
 * driver's reason but without the user name or password that `uri` contains.
 */
function createClient(uri: string, options: MongoClientOptions): MongoClient {
  try {
    return new MongoClient(uri, options);
  } catch (error) {
    if (!isConnectionStringError(error)) throw error;
    throw new CommandError(
      `--uri is not a valid MongoDB connection string: ${withoutCredentials(error.message, uri)}; ` +
        'pass --uri or MONGODB_URI of the form mongodb://HOST:PORT/DB, for example ' +
        `mongodb://127.0.0.1:27017/${DEFAULT_DATABASE}`,
      { cause: error },
    );
  }
}

/**
 * Tells whether `error` is one the driver throws for a connection string it cannot parse. The
 * package mongodb-connection-string-url throws its own class named MongoParseError, not the
 * driver's, and the driver reports a malformed host as MongoRuntimeError (mongodb 7.9).
 */
function isConnectionStringError(error: unknown): error is Error {
  return (
    error instanceof MongoParseError ||
    error instanceof MongoRuntimeError ||
    (error instanceof Error && error.name === 'MongoParseError')
  );
}

/** Replaces in `text` the user name and password of the `user:password@` part of `uri`. */
function withoutCredentials(text: string, uri: string): string {
  const userInfo = /^[^:/]*:\/\/([^/]*)@/.exec(uri)?.[1];
  if (userInfo === undefined) return text;

  const separator = userInfo.indexOf(':');
  const parts = separator === -1 ? [userInfo] : [userInfo.slice(0, separator), userInfo.slice(separator + 1)];
  let result = text;
  for (const part of parts.filter((value) => value !== '')) {
    result = result.split(part).join('<credentials>');
  }
  return result;
}

/**
 * Connects to `options.uri` and creates the store context. Throws `CommandError` for an invalid
 * database name before connecting, and `DatabaseError` when no server replies within the
 * server selection timeout, naming the address without its credentials.
 */
export async function openDatabase(options: DatabaseOptions): Promise<OpenDatabase> {
  const uri = options.uri ?? '';
  const logger = createCliLogger(options.logLevel);
  const name = databaseName(uri, options.db);
  const timeoutInUri = /[?&]serverSelectionTimeoutMS=/i.test(uri);
  const client = createClient(
    uri,
    timeoutInUri ? {} : { serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS },
  );

  // An open client keeps the process alive, so every failure from here on closes it.
  try {
    await connect(client, uri);
    const db = client.db(name);
    const context = await createStoreContext(db, { logger: logger.child({ component: 'store' }) });
    logger.debug({ database: db.databaseName, server: context.server }, 'connected');

    return { client, db, context, logger, close: () => client.close() };
  } catch (error) {
    await client.close().catch((closeError: unknown) => {
      logger.warn({ err: closeError }, 'could not close the connection after the failed start');
    });
    throw error;
  }
}

/**
 * Connects `client`. Throws `DatabaseError` naming `uri` without credentials when no server
 * responds.
 */
async function connect(client: MongoClient, uri: string): Promise<void> {
  try {
    await client.connect();
  } catch (error) {
    if (error instanceof MongoServerSelectionError) {
      throw new DatabaseError(
        `no MongoDB server answered at ${redact(uri)}: ${error.message}; check --uri or ` +
          'MONGODB_URI and that the server is running',
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * Opens the database, runs `body` and closes the connection, also when `body` throws. A thrown
 * error is logged at debug level with its stack before it propagates.
 */
export async function withDatabase<T>(
  options: DatabaseOptions,
  body: (database: OpenDatabase) => Promise<T>,
): Promise<T> {
  const database = await openDatabase(options);
  try {
    return await body(database);
  } catch (error) {
    database.logger.debug({ err: error }, 'command failed');
    throw error;
  } finally {
    await database.close();
  }
}
