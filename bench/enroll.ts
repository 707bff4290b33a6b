/**
 * Bulk enrollment speed against the worker pool's pure key generation rate, on this machine:
 *
 * - key generation: ML-KEM-768 plus ML-DSA-65 key pairs per second through `keygenBatch` on a
 *   pool of 2 workers, in batches of the size bulk enrollment uses (median of 3 rounds);
 * - bulk enrollment: users per second of `bulkEnroll` over 10,000 users without keys, with the
 *   same pool, and where its time went (reads, key generation, leases, history, user writes);
 * - the server's ceiling: updates per second of one `$set` on every user by `_id`, in unordered
 *   bulk writes of the size bulk enrollment sends, with nothing else running. Enrollment needs
 *   at least one such update per user, so it cannot run faster on that server.
 *
 * The target is enrollment at 80 % or more of the key generation rate. The database is a
 * FerretDB that the script starts (test/helpers/ferretdb.ts) or the server behind MONGODB_URI,
 * whose database `qynpqc_bench_enroll` is dropped first and after.
 *
 * Run `npm run build` first (the pool starts dist/pool-worker.js), then
 * `npx tsx bench/enroll.ts [--users 10000] [--batch 500] [--json]`.
 */
import { MongoClient, ObjectId } from 'mongodb';
import bcrypt from 'bcryptjs';
import { fileURLToPath } from 'node:url';
import { createPqcPool } from '../src/pool/index.js';
import type { PqcPool } from '../src/pool/index.js';
import { bulkEnroll, DEFAULT_BULK_BATCH_SIZE } from '../src/store/bulk-enroll.js';
import type { BulkEnrollSummary } from '../src/store/bulk-enroll.js';
import { createStoreContext } from '../src/store/context.js';
import type { StoreContext } from '../src/store/context.js';
import type { UserDocument } from '../src/store/schema.js';
import { startTestServer } from '../test/helpers/ferretdb.js';
import { describeEnvironment } from './machine.js';

const WORKERS = 2;
const KEYGEN_ROUNDS = 3;
/** Key pairs generated per key generation round. */
const KEYGEN_PAIRS_PER_ROUND = 5_000;
const DATABASE = 'qynpqc_bench_enroll';
const TARGET_RATIO = 0.8;
/** Users inserted per insertMany while seeding. */
const SEED_CHUNK = 1_000;

interface Options {
  users: number;
  batch: number;
  json: boolean;
}

function readOptions(argv: readonly string[]): Options {
  const options: Options = { users: 10_000, batch: DEFAULT_BULK_BATCH_SIZE, json: false };
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index];
    if (argument === '--json') {
      options.json = true;
    } else if (argument === '--users' || argument === '--batch') {
      const value = Number(argv[++index]);
      if (!Number.isSafeInteger(value) || value <= 0) {
        throw new Error(`${argument} needs a positive integer, got ${String(argv[index])}`);
      }
      options[argument === '--users' ? 'users' : 'batch'] = value;
    } else {
      throw new Error(`unknown option ${String(argument)}; use --users N, --batch N or --json`);
    }
  }
  return options;
}

/** Median key pairs per second of `KEYGEN_ROUNDS` rounds, in batches of `batch`. */
async function keygenRate(pool: PqcPool, batch: number): Promise<number> {
  const kem = pool.kem('ML-KEM-768');
  const signature = pool.signature('ML-DSA-65');
  await Promise.all([kem.keygenBatch(batch), signature.keygenBatch(batch)]);

  const rates: number[] = [];
  for (let round = 0; round < KEYGEN_ROUNDS; round += 1) {
    const start = performance.now();
    for (let done = 0; done < KEYGEN_PAIRS_PER_ROUND; done += batch) {
      const count = Math.min(batch, KEYGEN_PAIRS_PER_ROUND - done);
      await Promise.all([kem.keygenBatch(count), signature.keygenBatch(count)]);
    }
    rates.push(KEYGEN_PAIRS_PER_ROUND / ((performance.now() - start) / 1000));
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)]!;
}

async function seedUsers(client: MongoClient, count: number): Promise<void> {
  const users = client.db(DATABASE).collection<UserDocument>('users');
  const password = await bcrypt.hash('correct horse battery', 4);
  const now = new Date();
  for (let start = 0; start < count; start += SEED_CHUNK) {
    const size = Math.min(SEED_CHUNK, count - start);
    await users.insertMany(
      Array.from({ length: size }, (_, i) => ({
        _id: new ObjectId(),
        email: `bench-${start + i}@example.com`,
        password,
        failedLoginAttempts: 0,
        lockUntil: null,
        lastLoginAt: null,
        pqcEnabled: false,
        classicalFallback: true,
        createdAt: now,
        updatedAt: now,
      })),
    );
  }
}

/** Updates per second of one `$set` per user by `_id`, in unordered bulk writes of `chunk`. */
async function userUpdateRate(context: StoreContext, chunk: number): Promise<number> {
  const ids = (await context.users.find({}, { projection: { _id: 1 } }).toArray()).map(
    (user) => user._id,
  );
  const start = performance.now();
  for (let offset = 0; offset < ids.length; offset += chunk) {
    await context.users.bulkWrite(
      ids.slice(offset, offset + chunk).map((_id) => ({
        updateOne: { filter: { _id }, update: { $set: { benchUpdatedAt: new Date() } } },
      })),
      { ordered: false },
    );
  }
  return ids.length / ((performance.now() - start) / 1000);
}

function printReport(
  options: Options,
  keygen: number,
  summary: BulkEnrollSummary,
  updates: number,
  server: string,
): void {
  const ratio = summary.usersPerSecond / keygen;
  const percent = (ms: number): string =>
    `${((ms / summary.durationMs) * 100).toFixed(1).padStart(5)} %`;
  const row = (label: string, ms: number): string =>
    `  ${label.padEnd(40)} ${(ms / 1000).toFixed(2).padStart(7)} s ${percent(ms)}`;
  const { timings } = summary;
  const writes = timings.leaseMs + timings.checkMs + timings.historyMs + timings.userWriteMs;

  console.log(`server: ${server}; ${options.users} users, batches of ${options.batch}`);
  console.log(`key generation (pool of ${WORKERS}):  ${keygen.toFixed(0)} key pairs/s`);
  console.log(`bulk enrollment:                ${summary.usersPerSecond.toFixed(0)} users/s`);
  console.log(
    `ratio: ${(ratio * 100).toFixed(1)} % of the key generation rate ` +
      `(target ${TARGET_RATIO * 100} %: ${ratio >= TARGET_RATIO ? 'met' : 'not met'})`,
  );
  console.log(`wall time ${(summary.durationMs / 1000).toFixed(2)} s, of which:`);
  console.log(row('database writes (sum of below)', writes));
  console.log(row('  user leases', timings.leaseMs));
  console.log(row('  checks of users still without keys', timings.checkMs));
  console.log(row('  history entries (pending, current)', timings.historyMs));
  console.log(row('  user updates', timings.userWriteMs));
  console.log(row('waiting for the next batch', timings.waitMs));
  console.log('overlapped with the writes:');
  console.log(row('  key generation', timings.keygenMs));
  console.log(row('  reading users', timings.readMs));
  console.log(
    `enrolled ${summary.enrolled}, conflicts ${summary.conflicts}, skipped ${summary.skipped}, ` +
      `failed ${summary.failed}`,
  );
  console.log(
    `server ceiling: ${updates.toFixed(0)} user updates/s by _id alone, ` +
      `${((updates / keygen) * 100).toFixed(1)} % of the key generation rate`,
  );
}

const options = readOptions(process.argv.slice(2));
const environment = describeEnvironment(fileURLToPath(new URL('..', import.meta.url)));
const pool = await createPqcPool({ size: WORKERS });
const server = await startTestServer();
const client = new MongoClient(server.uri);

try {
  const keygen = await keygenRate(pool, options.batch);

  await client.db(DATABASE).dropDatabase();
  await seedUsers(client, options.users);
  const context = await createStoreContext(client.db(DATABASE));
  const summary = await bulkEnroll(context, { keySource: pool, batchSize: options.batch });
  const updates = await userUpdateRate(context, context.server.maxWriteStatements);
  const serverName =
    context.server.kind === 'ferretdb'
      ? `FerretDB (ferretdbVersion ${context.server.ferretdbVersion ?? 'unknown'}, ` +
        `reports MongoDB ${context.server.version})`
      : `MongoDB ${context.server.version}`;

  if (options.json) {
    console.log(
      JSON.stringify(
        {
          environment,
          server: serverName,
          options,
          keygenPairsPerSecond: keygen,
          userUpdatesPerSecond: updates,
          summary,
        },
        null,
        2,
      ),
    );
  } else {
    console.log(`${environment.cpuModel}, ${environment.cores} cores, Node ${environment.node}`);
    printReport(options, keygen, summary, updates, serverName);
  }
} finally {
  await client.db(DATABASE).dropDatabase().catch(() => {});
  await client.close();
  await server.stop();
  await pool.close();
}
