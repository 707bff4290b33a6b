// Concurrent enrollment of one user against a real server: from one key store, from ten store
// instances with their own connections, and from three child processes. Exactly one key pair
// may win, every other call must fail with ERR_STORE_CONFLICT, and no pending or extra history
// entry may remain.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPqc } from '../../src/core/pqc.js';
import type { PqcInstance } from '../../src/core/pqc.js';
import { isPqcError } from '../../src/errors.js';
import type { StoreContext } from '../../src/store/context.js';
import { KeyStore } from '../../src/store/keys.js';
import type { EnrolledKeys } from '../../src/store/keys.js';
import { UserStore } from '../../src/store/users.js';
import { startStoreEnvironment } from './setup.js';
import type { StoreTestEnvironment } from './setup.js';

const DATABASE = 'concurrent_enrollment';
const CHILD_SCRIPT = fileURLToPath(new URL('./fixtures/enroll-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface ChildResult {
  email: string;
  keyId?: string;
  code?: string;
  message?: string;
}

let environment: StoreTestEnvironment;
let context: StoreContext;
let pqc: PqcInstance;
let users: UserStore;

async function newUser(email: string): Promise<ObjectId> {
  return (await users.createUser({ email, password: 'correct horse battery' }))._id;
}

/** Checks that exactly one call won and that the stored state is that winner's alone. */
async function expectOneWinner(
  userId: ObjectId,
  outcomes: PromiseSettledResult<EnrolledKeys>[],
): Promise<void> {
  const winners = outcomes.filter((outcome) => outcome.status === 'fulfilled');
  const losers = outcomes.filter((outcome) => outcome.status === 'rejected');
  expect(winners).toHaveLength(1);
  for (const loser of losers) {
    expect(isPqcError(loser.reason, 'ERR_STORE_CONFLICT')).toBe(true);
  }

  const winner = (winners[0] as PromiseFulfilledResult<EnrolledKeys>).value;
  await expectStoredWinner(userId, winner.keyId);
}

async function expectStoredWinner(userId: ObjectId, keyId: string): Promise<void> {
  const user = await context.users.findOne({ _id: userId });
  expect(user?.pqcKeyId).toBe(keyId);

  const history = await context.pqcKeys.find({ userId }).toArray();
  expect(history.map((entry) => [entry._id, entry.status])).toEqual([[keyId, 'current']]);
  expect(await context.pqcKeys.countDocuments({ status: 'pending' })).toBe(0);
}

function runChild(emails: readonly string[]): {
  ready: Promise<void>;
  start: () => void;
  results: Promise<ChildResult[]>;
} {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CHILD_SCRIPT, environment.server.uri, `qynpqc_test_${DATABASE}`, ...emails],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });

  const lines = createInterface({ input: child.stdout });
  const results: ChildResult[] = [];
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  lines.on('line', (line) => {
    if (line === 'ready') markReady();
    else results.push(JSON.parse(line) as ChildResult);
  });

  const finished = new Promise<ChildResult[]>((resolve, reject) => {
    child.once('exit', (code) => {
      if (code === 0) resolve(results);
      else reject(new Error(`enroll-child exited with ${String(code)}:\n${stderr}`));
    });
  });
  return {
    ready: Promise.race([ready, finished.then(() => {})]),
    start: () => child.stdin.end('go\n'),
    results: finished,
  };
}

beforeAll(async () => {
  environment = await startStoreEnvironment();
  context = await environment.context(DATABASE);
  pqc = await loadPqc();
  users = new UserStore(context, { bcryptRounds: 4 });
});

afterAll(async () => {
  await environment?.close();
});

describe('concurrent enrollment in one process', () => {
  it('ten calls on one store: one winner', async () => {
    const userId = await newUser('same-store@example.com');
    const keys = new KeyStore(context, { keySource: pqc });

    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => keys.enroll({ userId })),
    );

    await expectOneWinner(userId, outcomes);
  });

  it('ten store instances: one winner', async () => {
    const userId = await newUser('ten-instances@example.com');
    const stores = await Promise.all(
      Array.from(
        { length: 10 },
        async () => new KeyStore(await environment.instance(DATABASE), { keySource: pqc }),
      ),
    );

    const outcomes = await Promise.allSettled(
      stores.map((store) => store.enroll({ email: 'ten-instances@example.com' })),
    );

    await expectOneWinner(userId, outcomes);
  });

  it('ten rotations: one winner', async () => {
    const userId = await newUser('ten-rotations@example.com');
    const first = await new KeyStore(context, { keySource: pqc }).enroll({ userId });
    const stores = await Promise.all(
      Array.from(
        { length: 10 },
        async () => new KeyStore(await environment.instance(DATABASE), { keySource: pqc }),
      ),
    );

    const outcomes = await Promise.allSettled(stores.map((store) => store.rotate({ userId })));

    const winners = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') {
        expect(isPqcError(outcome.reason, 'ERR_STORE_CONFLICT')).toBe(true);
      }
    }
    const winner = (winners[0] as PromiseFulfilledResult<EnrolledKeys>).value;
    const history = await context.pqcKeys.find({ userId }).sort({ createdAt: 1 }).toArray();
    expect(history.map((entry) => [entry._id, entry.status])).toEqual([
      [first.keyId, 'retired'],
      [winner.keyId, 'current'],
    ]);
    expect((await context.users.findOne({ _id: userId }))?.pqcKeyId).toBe(winner.keyId);
  });

  it('calls for different users all win', async () => {
    const ids = await Promise.all(
      Array.from({ length: 10 }, (_, i) => newUser(`parallel-${i}@example.com`)),
    );
    const keys = new KeyStore(context, { keySource: pqc });

    const enrolled = await Promise.all(ids.map((userId) => keys.enroll({ userId })));

    expect(new Set(enrolled.map((result) => result.keyId)).size).toBe(10);
    for (const [index, userId] of ids.entries()) {
      await expectStoredWinner(userId, enrolled[index]!.keyId);
    }
  });
});

describe('concurrent enrollment from three processes', () => {
  it('one winner per user across processes', async () => {
    const emails = ['process-a@example.com', 'process-b@example.com', 'process-c@example.com'];
    const ids = await Promise.all(emails.map((email) => newUser(email)));

    const children = Array.from({ length: 3 }, () => runChild(emails));
    await Promise.all(children.map((child) => child.ready));
    for (const child of children) child.start();
    const results = (await Promise.all(children.map((child) => child.results))).flat();

    expect(results).toHaveLength(9);
    for (const [index, email] of emails.entries()) {
      const forUser = results.filter((result) => result.email === email);
      const winners = forUser.filter((result) => result.keyId !== undefined);
      expect(winners).toHaveLength(1);
      for (const loser of forUser.filter((result) => result.keyId === undefined)) {
        expect(loser.code).toBe('ERR_STORE_CONFLICT');
      }
      await expectStoredWinner(ids[index]!, winners[0]!.keyId!);
    }
  }, 120_000);
});
