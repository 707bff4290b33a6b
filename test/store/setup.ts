// Shared setup of the store tests: one server per test file and a fresh database per name.
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import { startTestServer } from '../helpers/ferretdb.js';
import type { TestServer } from '../helpers/ferretdb.js';
import { createStoreContext } from '../../src/store/context.js';
import type { StoreContext, StoreOptions } from '../../src/store/context.js';

/** A started server, a client on it, and the databases the file created. */
export interface StoreTestEnvironment {
  server: TestServer;
  client: MongoClient;
  /** Drops and returns the database `qynpqc_test_<name>`, unique per test file and case. */
  database(name: string): Promise<Db>;
  /** Creates a store context on a fresh database. */
  context(name: string, options?: StoreOptions): Promise<StoreContext>;
  /**
   * Opens a store context on the existing database `name` through a new client, as another
   * instance of a service would; closed by `close`.
   */
  instance(name: string, options?: StoreOptions): Promise<StoreContext>;
  /** Drops the databases, closes the client and stops the server. */
  close(): Promise<void>;
}

/** Starts a server (or uses MONGODB_URI) and connects a client with room for 200 connections. */
export async function startStoreEnvironment(): Promise<StoreTestEnvironment> {
  const server = await startTestServer();
  const client = new MongoClient(server.uri, { maxPoolSize: 200 });
  await client.connect();
  const created: Db[] = [];
  const clients: MongoClient[] = [];

  const database = async (name: string): Promise<Db> => {
    const db = client.db(`qynpqc_test_${name}`);
    await db.dropDatabase();
    created.push(db);
    return db;
  };

  return {
    server,
    client,
    database,
    context: async (name, options) => createStoreContext(await database(name), options),
    instance: async (name, options) => {
      const other = new MongoClient(server.uri, { maxPoolSize: 20 });
      clients.push(other);
      return createStoreContext(other.db(`qynpqc_test_${name}`), options);
    },
    close: async () => {
      for (const other of clients) await other.close();
      if (server.external) {
        for (const db of created) await db.dropDatabase().catch(() => {});
      }
      await client.close();
      await server.stop();
    },
  };
}
