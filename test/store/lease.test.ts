// Leases against a real server: one holder among racing processes, takeover after expiry,
// renewal that notices a takeover or an expiry, and release that leaves no document behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { StoreConflictError } from '../../src/store/errors.js';
import { LeaseManager } from '../../src/store/lease.js';
import type { LeaseDocument } from '../../src/store/lease.js';
import { startStoreEnvironment } from './setup.js';
import type { StoreTestEnvironment } from './setup.js';

let environment: StoreTestEnvironment;
let db: Db;

function held(holder: LeaseDocument): Error {
  return new StoreConflictError(`held by ${holder.owner}`);
}

beforeAll(async () => {
  environment = await startStoreEnvironment();
  db = await environment.database('lease');
});

afterAll(async () => {
  await environment?.close();
});

describe('leases', () => {
  it('grants one of many racing managers', async () => {
    const managers = Array.from({ length: 8 }, (_, i) => new LeaseManager(db, `owner-${i}`));

    const attempts = await Promise.all(
      managers.map((manager) => manager.tryAcquire(['race'], 60_000)),
    );

    const winners = attempts.filter((attempt) => attempt.acquired.has('race'));
    expect(winners).toHaveLength(1);
    expect(await db.collection('pqcLeases').countDocuments({ key: 'race' })).toBe(1);
  });

  it('deletes the document on release', async () => {
    const manager = new LeaseManager(db, 'releaser');
    const { lease } = await manager.acquire('released', { ttlMs: 60_000, waitMs: 0, onHeld: held });

    await lease.release();

    expect(await db.collection('pqcLeases').countDocuments({ key: 'released' })).toBe(0);
    const next = await new LeaseManager(db, 'next').tryAcquire(['released'], 60_000);
    expect(next.acquired.has('released')).toBe(true);
  });

  it('keeps an expired lease on release', async () => {
    const late = new LeaseManager(db, 'late');
    const { lease } = await late.acquire('late', { ttlMs: 100, waitMs: 0, onHeld: held });
    await new Promise((resolve) => setTimeout(resolve, 150));

    await lease.release();

    expect(await db.collection('pqcLeases').countDocuments({ key: 'late' })).toBe(1);
    const next = await new LeaseManager(db, 'after-late').tryAcquire(['late'], 60_000);
    expect(next.expired.get('late')?.owner).toBe('late');
    expect(next.acquired.get('late')?.document.generation).toBe(2);
  });

  it('rejects while held and names the holder', async () => {
    const holder = new LeaseManager(db, 'holder');
    await holder.acquire('busy', { ttlMs: 60_000, waitMs: 0, onHeld: held });

    const waiting = new LeaseManager(db, 'waiter').acquire('busy', {
      ttlMs: 60_000,
      waitMs: 200,
      onHeld: held,
    });

    await expect(waiting).rejects.toThrow('held by holder');
  });

  it('takes over an expired lease and reports it', async () => {
    const crashed = new LeaseManager(db, 'crashed');
    await crashed.acquire('expiring', { ttlMs: 150, waitMs: 0, onHeld: held });

    const { lease, takenOver } = await new LeaseManager(db, 'successor').acquire('expiring', {
      ttlMs: 60_000,
      waitMs: 2_000,
      onHeld: held,
    });

    expect(takenOver?.owner).toBe('crashed');
    expect(lease.document.owner).toBe('successor');
    expect(await db.collection('pqcLeases').countDocuments({ key: 'expiring' })).toBe(1);
  });

  it('renewal notices a takeover', async () => {
    const stalled = new LeaseManager(db, 'stalled');
    const { lease: old } = await stalled.acquire('renewed', { ttlMs: 150, waitMs: 0, onHeld: held });
    await new Promise((resolve) => setTimeout(resolve, 200));

    const { lease: current } = await new LeaseManager(db, 'current').acquire('renewed', {
      ttlMs: 60_000,
      waitMs: 0,
      onHeld: held,
    });

    expect(await old.renew()).toBe(false);
    expect(old.valid).toBe(false);
    expect(await current.renew()).toBe(true);
  });

  it('renewal notices a takeover released since', async () => {
    const stalled = new LeaseManager(db, 'stalled');
    const { lease: old } = await stalled.acquire('gone', { ttlMs: 150, waitMs: 0, onHeld: held });
    await new Promise((resolve) => setTimeout(resolve, 200));

    const { lease: current } = await new LeaseManager(db, 'current').acquire('gone', {
      ttlMs: 60_000,
      waitMs: 0,
      onHeld: held,
    });
    await current.release();

    expect(await old.renew()).toBe(false);
  });

  it('expired lease cannot be renewed', async () => {
    const stalled = new LeaseManager(db, 'stalled');
    const { lease: old } = await stalled.acquire('lapsed', { ttlMs: 150, waitMs: 0, onHeld: held });
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect(await old.renew()).toBe(false);
    expect(old.valid).toBe(false);

    const successor = new LeaseManager(db, 'current');
    const { lease: current, takenOver } = await successor.acquire('lapsed', {
      ttlMs: 60_000,
      waitMs: 0,
      onHeld: held,
    });
    expect(takenOver?.owner).toBe('stalled');
    expect(await old.renew()).toBe(false);
    expect(await current.renew()).toBe(true);
  });

  it('expired holder cannot renew before a takeover lands', async () => {
    const stalled = new LeaseManager(db, 'stalled');
    const { lease: old } = await stalled.acquire('racing', { ttlMs: 150, waitMs: 0, onHeld: held });
    await new Promise((resolve) => setTimeout(resolve, 200));

    // A process that read the expired lease before this renewal inserts the next generation after
    // it, as tryAcquire does.
    const renewed = await old.renew();
    await db.collection<LeaseDocument>('pqcLeases').insertOne({
      _id: 'racing:2',
      key: 'racing',
      generation: 2,
      owner: 'successor',
      acquiredAt: new Date(),
      expiresAt: new Date(Date.now() + 60_000),
    });

    expect(renewed).toBe(false);
    expect(old.valid).toBe(false);
    const stored = await db.collection<LeaseDocument>('pqcLeases').findOne({ _id: 'racing:1' });
    expect(stored?.expiresAt.getTime()).toBe(old.document.expiresAt.getTime());
  });
});
