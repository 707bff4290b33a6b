/**
 * Starts a throwaway FerretDB server for the store tests through tools/ferretdb/launch.ts, with
 * its SQLite files in a temporary folder that `stop` removes. When `MONGODB_URI` is set, the
 * tests use that server instead and nothing is started. Launcher warnings go to stderr.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchFerretDb } from '../../tools/ferretdb/launch.js';
import { STDERR_WARNINGS } from '../../tools/ferretdb/logger.js';

/** A running server the tests connect to. */
export interface TestServer {
  /** Connection string, for example `mongodb://127.0.0.1:40123/?directConnection=true`. */
  readonly uri: string;
  /** True when the server comes from `MONGODB_URI` and this helper does not control it. */
  readonly external: boolean;
  /** Stops the server and removes its data folder; safe to call twice. */
  stop(): Promise<void>;
  /** Kills the server process with SIGKILL, as a crash would; throws for an external server. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and data folder, after `kill`. */
  restart(): Promise<void>;
}

function externalServer(uri: string): TestServer {
  return {
    uri,
    external: true,
    stop: async () => {},
    kill: async () => {
      throw new Error('cannot kill the server behind MONGODB_URI; unset it to run this test');
    },
    restart: async () => {
      throw new Error('cannot restart the server behind MONGODB_URI; unset it to run this test');
    },
  };
}

/** Starts a FerretDB server, or returns the `MONGODB_URI` server when that is set. */
export async function startTestServer(): Promise<TestServer> {
  const external = process.env.MONGODB_URI;
  if (external !== undefined && external !== '') return externalServer(external);

  const dataDirectory = mkdtempSync(join(tmpdir(), 'qynpqc-ferretdb-'));
  const removeData = (): void => rmSync(dataDirectory, { recursive: true, force: true });

  const server = await launchFerretDb({ dataDirectory, logger: STDERR_WARNINGS }).catch(
    (error: unknown) => {
      removeData();
      throw error;
    },
  );

  return {
    uri: server.uri,
    external: false,
    stop: async () => {
      await server.stop();
      removeData();
    },
    kill: () => server.kill(),
    restart: () => server.restart(),
  };
}
