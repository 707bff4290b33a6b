/**
 * Starts the FerretDB server the demo uses when no MONGODB_URI is given, through
 * tools/ferretdb/launch.ts: SQLite files in a data directory that survives restarts, a free
 * 127.0.0.1 port, no telemetry. The launcher logs starts, exits and fallbacks through pino.
 */
import type { Logger } from 'pino';
import { launchFerretDb } from '../../tools/ferretdb/launch.js';

/** A FerretDB process started by the demo. */
export interface FerretDbProcess {
  /** Connection string of the server. */
  readonly uri: string;
  /** Sends SIGTERM, then SIGKILL if it has not exited after five seconds. */
  stop(): Promise<void>;
}

/** Starts FerretDB with its SQLite files in `dataDirectory` and waits until it accepts connections. */
export async function startFerretDb(
  dataDirectory: string,
  logger: Logger,
): Promise<FerretDbProcess> {
  const server = await launchFerretDb({ dataDirectory, logger });
  return { uri: server.uri, stop: () => server.stop() };
}
