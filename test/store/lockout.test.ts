// Login lockout against a real server: the rule, exact counting under concurrency, the races
// where a success meets the threshold, and stored hashes whose bcrypt cost a login cannot afford.
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPqcError } from '../../src/errors.js';
import type { StoreContext } from '../../src/store/context.js';
import { UserStore } from '../../src/store/users.js';
import type { LoginAttempt } from '../../src/store/users.js';
import { startStoreEnvironment } from './setup.js';
import type { StoreTestEnvironment } from './setup.js';

const PASSWORD = 'correct horse battery';
let environment: StoreTestEnvironment;
let context: StoreContext;
let store: UserStore;

async function newUser(email: string): Promise<void> {
  await store.createUser({ email, password: PASSWORD });
}

async function stored(email: string): Promise<{ failedLoginAttempts: number; lockUntil: Date | null }> {
  const user = await context.users.findOne({ email });
  if (user === null) throw new Error(`user ${email} vanished`);
  return { failedLoginAttempts: user.failedLoginAttempts ?? -1, lockUntil: user.lockUntil ?? null };
}

function isLocked(state: { lockUntil: Date | null }): boolean {
  return state.lockUntil !== null && state.lockUntil.getTime() > Date.now();
}

beforeAll(async () => {
  environment = await startStoreEnvironment();
  context = await environment.context('lockout');
  store = new UserStore(context, { bcryptRounds: 4 });
});

afterAll(async () => {
  await environment?.close();
});

describe('lockout rule', () => {
  it('locks after five consecutive failures', async () => {
    await newUser('five@example.com');

    const results: LoginAttempt[] = [];
    for (let i = 0; i < 5; i += 1) results.push(await store.authenticate('five@example.com', 'wrong password'));

    expect(results.map((attempt) => attempt.result)).toEqual([
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'locked',
    ]);
    const state = await stored('five@example.com');
    expect(state.failedLoginAttempts).toBe(5);
    expect(isLocked(state)).toBe(true);
    const minutes = (state.lockUntil!.getTime() - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(29);
    expect(minutes).toBeLessThanOrEqual(30);
  });

  it('rejects the right password while locked', async () => {
    const attempt = await store.authenticate('five@example.com', PASSWORD);

    expect(attempt.result).toBe('locked');
    expect((await stored('five@example.com')).failedLoginAttempts).toBe(5);
  });

  it('success resets counter and records lastLoginAt', async () => {
    await newUser('reset@example.com');
    await store.authenticate('reset@example.com', 'wrong password');
    await store.authenticate('reset@example.com', 'wrong password');

    const before = Date.now();
    const attempt = await store.authenticate('reset@example.com', PASSWORD);

    expect(attempt.result).toBe('accepted');
    const user = await context.users.findOne({ email: 'reset@example.com' });
    expect(user?.failedLoginAttempts).toBe(0);
    expect(user?.lockUntil).toBeNull();
    expect(user?.lastLoginAt).toBeInstanceOf(Date);
    expect(user!.lastLoginAt!.getTime()).toBeGreaterThanOrEqual(before);
  });

  it('expired lock resets the counter', async () => {
    await newUser('expired@example.com');
    await context.users.updateOne(
      { email: 'expired@example.com' },
      { $set: { failedLoginAttempts: 5, lockUntil: new Date(Date.now() - 1000) } },
    );

    const attempt = await store.authenticate('expired@example.com', 'one more typo');

    expect(attempt.result).toBe('rejected');
    const state = await stored('expired@example.com');
    expect(state.failedLoginAttempts).toBe(1);
    expect(state.lockUntil).toBeNull();
  });

  it('expired lock lets the right password in', async () => {
    await context.users.updateOne(
      { email: 'expired@example.com' },
      { $set: { failedLoginAttempts: 7, lockUntil: new Date(Date.now() - 1000) } },
    );

    expect((await store.authenticate('expired@example.com', PASSWORD)).result).toBe('accepted');
    expect((await stored('expired@example.com')).failedLoginAttempts).toBe(0);
  });

  it('applies the rule in one pipeline update', async () => {
    const conditional = new UserStore(
      { ...context, server: { ...context.server, atomicUpdates: true } },
      { bcryptRounds: 4 },
    );
    await newUser('conditional@example.com');
    if (context.server.kind === 'ferretdb') {
      // FerretDB v1.24 rejects update pipelines, so this only shows that the path sends one.
      await expect(conditional.recordLoginAttempt('conditional@example.com', false)).rejects.toThrow(
        'Aggregation pipelines are not supported',
      );
      expect((await stored('conditional@example.com')).failedLoginAttempts).toBe(0);
      return;
    }

    for (let i = 0; i < 5; i += 1) await conditional.recordLoginAttempt('conditional@example.com', false);

    const state = await stored('conditional@example.com');
    expect(state.failedLoginAttempts).toBe(5);
    expect(isLocked(state)).toBe(true);
    expect((await conditional.recordLoginAttempt('conditional@example.com', true)).result).toBe('locked');
  });
});

describe('concurrent login attempts', () => {
  it('counts 100 concurrent failures exactly', async () => {
    await newUser('hundred@example.com');
    const instances = await Promise.all(
      Array.from({ length: 10 }, async () => new UserStore(await environment.instance('lockout'))),
    );

    const attempts = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        instances[i % instances.length]!.recordLoginAttempt('hundred@example.com', false),
      ),
    );

    const state = await stored('hundred@example.com');
    expect(state.failedLoginAttempts).toBe(100);
    expect(isLocked(state)).toBe(true);
    const counts = attempts.map((attempt) => attempt.failedLoginAttempts).sort((a, b) => a - b);
    expect(counts).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('locks after 25 concurrent wrong passwords', async () => {
    await newUser('twentyfive@example.com');
    const other = new UserStore(await environment.instance('lockout'), { bcryptRounds: 4 });

    const attempts = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        (i % 2 === 0 ? store : other).authenticate('twentyfive@example.com', 'guess'),
      ),
    );

    const state = await stored('twentyfive@example.com');
    expect(state.failedLoginAttempts).toBe(25);
    expect(isLocked(state)).toBe(true);
    expect(attempts.filter((attempt) => attempt.result === 'locked')).toHaveLength(21);
  });

  it('success racing six failures never unlocks', async () => {
    const other = new UserStore(await environment.instance('lockout'), { bcryptRounds: 4 });
    for (let round = 0; round < 5; round += 1) {
      const email = `race${round}@example.com`;
      await newUser(email);

      const failures = Array.from({ length: 6 }, (_, i) =>
        (i % 2 === 0 ? store : other).recordLoginAttempt(email, false),
      );
      const success = (round % 2 === 0 ? other : store).recordLoginAttempt(email, true);
      const [accepted, ...failed] = await Promise.all([success, ...failures]);

      const state = await stored(email);
      const counts = failed.map((attempt) => attempt.failedLoginAttempts).sort((a, b) => a - b);
      if (accepted!.result === 'accepted') {
        // The success came before the fifth failure: the counts restart from 1 after it.
        const before = counts.length - state.failedLoginAttempts;
        expect(before).toBeLessThan(5);
        const expected = [
          ...Array.from({ length: before }, (_, i) => i + 1),
          ...Array.from({ length: state.failedLoginAttempts }, (_, i) => i + 1),
        ].sort((a, b) => a - b);
        expect(counts).toEqual(expected);
      } else {
        expect(accepted!.result).toBe('locked');
        expect(counts).toEqual([1, 2, 3, 4, 5, 6]);
        expect(state.failedLoginAttempts).toBe(6);
      }
      expect(state.failedLoginAttempts).toBeGreaterThan(0);
      if (state.failedLoginAttempts >= 5) expect(isLocked(state)).toBe(true);
    }
  });
});

describe('stored hash cost', () => {
  /** Returns a cost-4 hash of PASSWORD with its cost field rewritten to `cost`. */
  async function hashWithCost(cost: string): Promise<string> {
    const hash = await bcrypt.hash(PASSWORD, 4);
    return hash.replace(/^(\$2[aby]\$)04\$/, `$1${cost}$`);
  }

  it('rejects unusable costs as validation errors', async () => {
    const cases: [string, string][] = [
      ['cost99@example.com', await hashWithCost('99')],
      ['cost00@example.com', await hashWithCost('00')],
      ['cost14@example.com', await hashWithCost('14')],
      ['version@example.com', (await hashWithCost('04')).replace(/^\$2b\$/, '$2x$')],
    ];

    for (const [email, hash] of cases) {
      await newUser(email);
      await context.users.updateOne({ email }, { $set: { password: hash } });

      const error = await store.authenticate(email, PASSWORD).catch((e: unknown) => e);

      expect(isPqcError(error, 'ERR_STORE_VALIDATION'), `${email}: ${String(error)}`).toBe(true);
      expect((error as Error).message).toContain(email);
      expect((error as Error).message).not.toContain(hash);
      expect((await stored(email)).failedLoginAttempts).toBe(0);
    }
  });

  it('names the cost and the range', async () => {
    const error = await store.authenticate('cost99@example.com', PASSWORD).catch((e: unknown) => e);

    expect((error as Error).message).toContain('bcrypt cost 99');
    expect((error as Error).message).toContain('4 to 13');
  });

  it('verifies a cost-13 hash', async () => {
    await newUser('cost13@example.com');
    const hash = await bcrypt.hash(PASSWORD, 13);
    await context.users.updateOne({ email: 'cost13@example.com' }, { $set: { password: hash } });

    expect((await store.authenticate('cost13@example.com', PASSWORD)).result).toBe('accepted');
  });

  it('rejects bcryptRounds outside the range', () => {
    for (const rounds of [3, 14, 31]) {
      let code: string | undefined;
      try {
        new UserStore(context, { bcryptRounds: rounds });
      } catch (error) {
        code = isPqcError(error) ? error.code : 'other';
      }
      expect(code, `bcryptRounds ${rounds}`).toBe('ERR_STORE_VALIDATION');
    }
  });
});
