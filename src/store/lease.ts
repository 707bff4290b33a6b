/**
 * Leases: mutual exclusion between processes through the database alone, with an expiry so that
 * a lease left by a killed process can be taken over.
 *
 * A lease on `key` is a chain of documents `{ _id: "<key>:<generation>" }`. The document with the
 * highest generation is the current one; it is held while its `expiresAt` lies ahead. To acquire, a process reads the current generation g and, if it is free
 * or expired, inserts generation g + 1. The unique `_id` lets exactly one of several racing
 * processes insert it, on MongoDB and on FerretDB alike, so taking over an expired lease is as
 * atomic as taking a free one. The winner then checks that its generation is still the highest
 * (a process acting on an old read may have inserted a generation that was already pruned) and
 * deletes the older generations.
 *
 * Releasing a lease deletes its document, so the collection holds only leases in use or left by
 * killed processes, and the look-ups by key stay short on servers that scan a collection for
 * every query other than one by `_id`. A release deletes a lease only while it has not expired,
 * because a process may already have read an expired lease and be about to take it over with the
 * next generation. If the release deleted it, a third process could start a new chain at
 * generation 1 beside that one, and both would hold the lease. So an expired lease stays until
 * its successor prunes it.
 *
 * Expiry uses the clock of each process, both to acquire and to renew, so hosts that share leases
 * need synchronised clocks. A renewal succeeds only for the owner of the current generation
 * before its expiry. A holder that stalls past its expiry may still write after another process
 * took over unless it checks {@link Lease.valid} or renews before each write, as the migration
 * lock does; holders of long leases renew them with {@link Lease.startRenewal}.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { MongoBulkWriteError, MongoServerError } from 'mongodb';
import { COLLECTIONS } from './schema.js';

/** MongoDB's duplicate key error code. */
export const DUPLICATE_KEY = 11000;

/** Longest pause between two tries of a held lease, in milliseconds. */
const MAX_PAUSE_MS = 100;

/** A lease document. */
export interface LeaseDocument {
  _id: string;
  key: string;
  generation: number;
  owner: string;
  acquiredAt: Date;
  expiresAt: Date;
}

/** Options of {@link LeaseManager.acquire}. */
export interface AcquireOptions {
  /** Milliseconds the lease lasts unless renewed. */
  ttlMs: number;
  /** Milliseconds to wait for a held lease before `onHeld` is thrown. 0 fails at once. */
  waitMs: number;
  /** Builds the error thrown when the lease stays held; receives the holder's document. */
  onHeld: (holder: LeaseDocument) => Error;
}

/** Returns `owner` strings of the form `host:pid:random`. */
export function defaultLeaseOwner(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/** Returns whether `error` is a duplicate key error (code 11000) from a single write. */
export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isHeld(lease: LeaseDocument, now: number): boolean {
  return lease.expiresAt.getTime() > now;
}

/** A lease this process holds. */
export class Lease {
  private renewal: NodeJS.Timeout | undefined;
  private superseded = false;
  /** Expiry of the last successful acquisition or renewal, in ms since the epoch. */
  private expiresAtMs: number;

  constructor(
    private readonly collection: Collection<LeaseDocument>,
    /** The lease document as inserted. */
    readonly document: LeaseDocument,
    private readonly ttlMs: number,
  ) {
    this.expiresAtMs = document.expiresAt.getTime();
  }

  /** False once a renewal failed because the lease expired or another process took it over. */
  get valid(): boolean {
    return !this.superseded;
  }

  /**
   * Extends the expiry by the TTL and returns whether this process still holds the lease. Once it
   * returns false, every later call does too. The update matches only this generation, this owner
   * and an expiry still ahead of this process's clock, the clock acquisition compares with, so an
   * expired lease is never brought back. The renewal then checks that no later generation exists
   * and that both steps finished before the previous expiry: a process that read the lease after
   * that expiry may be about to insert the next generation.
   */
  async renew(): Promise<boolean> {
    if (this.superseded) return false;

    const startedAt = Date.now();
    const previousExpiry = this.expiresAtMs;
    const expiresAt = new Date(startedAt + this.ttlMs);
    const renewed = await this.collection.updateOne(
      {
        _id: this.document._id,
        owner: this.document.owner,
        expiresAt: { $gt: new Date(startedAt) },
      },
      { $set: { expiresAt } },
    );
    if (renewed.matchedCount === 0) {
      this.superseded = true;
      return false;
    }

    const newer = await this.collection.countDocuments({
      key: this.document.key,
      generation: { $gt: this.document.generation },
    });
    if (newer > 0 || Date.now() >= previousExpiry) {
      this.superseded = true;
      return false;
    }

    this.expiresAtMs = expiresAt.getTime();
    return true;
  }

  /** Renews every `intervalMs` until released; `onError` receives failed renewals. */
  startRenewal(intervalMs: number, onError: (error: unknown) => void): void {
    this.renewal = setInterval(() => {
      this.renew().catch(onError);
    }, intervalMs);
    this.renewal.unref();
  }

  /**
   * Stops renewal and deletes the lease document unless it has expired, so the next process
   * need not wait for the expiry. A lease whose renewal failed is left to expire, because a renewal
   * that finished late may have extended a document that another process already read as expired.
   */
  async release(): Promise<void> {
    if (this.renewal !== undefined) clearInterval(this.renewal);
    this.renewal = undefined;
    if (this.superseded) return;
    await this.collection.deleteOne({ _id: this.document._id, expiresAt: { $gt: new Date() } });
  }
}

/** Acquires and releases leases stored in one collection. */
export class LeaseManager {
  readonly collection: Collection<LeaseDocument>;
  private indexReady: Promise<unknown> | undefined;

  constructor(
    db: Db,
    /** Recorded in every lease document this manager writes. */
    readonly owner: string = defaultLeaseOwner(),
  ) {
    this.collection = db.collection<LeaseDocument>(COLLECTIONS.leases);
  }

  /**
   * Acquires the lease on `key`, waiting up to `waitMs` while another process holds it; then
   * throws `onHeld(holder)`. Resolves with `{ lease, takenOver }`, where `takenOver` is the
   * expired holder's document when the lease was taken over from a process that never released.
   */
  async acquire(
    key: string,
    options: AcquireOptions,
  ): Promise<{ lease: Lease; takenOver: LeaseDocument | undefined }> {
    const deadline = Date.now() + options.waitMs;
    let pauseMs = 2;

    for (;;) {
      const { acquired, holders, expired } = await this.tryAcquire([key], options.ttlMs);
      const lease = acquired.get(key);
      if (lease !== undefined) return { lease, takenOver: expired.get(key) };

      const holder = holders.get(key);
      if (holder !== undefined && Date.now() >= deadline) throw options.onHeld(holder);

      await sleep(pauseMs / 2 + (Math.random() * pauseMs) / 2);
      pauseMs = Math.min(pauseMs * 2, MAX_PAUSE_MS);
    }
  }

  /**
   * Tries once to acquire the leases on `keys`, without waiting. Returns the leases acquired,
   * the holders of those that are held, and the expired holders of those taken over.
   */
  async tryAcquire(
    keys: readonly string[],
    ttlMs: number,
  ): Promise<{
    acquired: Map<string, Lease>;
    holders: Map<string, LeaseDocument>;
    expired: Map<string, LeaseDocument>;
  }> {
    await this.ensureIndex();
    const acquired = new Map<string, Lease>();
    const holders = new Map<string, LeaseDocument>();
    const expired = new Map<string, LeaseDocument>();

    const now = Date.now();
    const current = await this.latest(keys);
    const candidates: LeaseDocument[] = [];
    for (const key of keys) {
      const latest = current.get(key);
      if (latest !== undefined && isHeld(latest, now)) {
        holders.set(key, latest);
        continue;
      }
      if (latest !== undefined) expired.set(key, latest);

      const generation = (latest?.generation ?? 0) + 1;
      candidates.push({
        _id: `${key}:${generation}`,
        key,
        generation,
        owner: this.owner,
        acquiredAt: new Date(now),
        expiresAt: new Date(now + ttlMs),
      });
    }
    if (candidates.length === 0) return { acquired, holders, expired };

    const inserted = await this.insertCandidates(candidates);
    const newest = await this.latest(inserted.map((candidate) => candidate.key));
    const won = inserted.filter((candidate) => newest.get(candidate.key)?._id === candidate._id);
    const lost = inserted.filter((candidate) => !won.includes(candidate));

    if (lost.length > 0) {
      await this.collection.deleteMany({ _id: { $in: lost.map((candidate) => candidate._id) } });
    }
    if (won.length > 0) await this.prune(won);

    for (const document of won) {
      acquired.set(document.key, new Lease(this.collection, document, ttlMs));
    }
    for (const key of keys) {
      if (!acquired.has(key)) expired.delete(key);
    }
    return { acquired, holders, expired };
  }

  /** Releases several leases in one write, as {@link Lease.release} does. */
  async releaseAll(leases: Iterable<Lease>): Promise<void> {
    const ids = [...leases].map((lease) => lease.document._id);
    if (ids.length === 0) return;
    await this.collection.deleteMany({ _id: { $in: ids }, expiresAt: { $gt: new Date() } });
  }

  private async insertCandidates(candidates: LeaseDocument[]): Promise<LeaseDocument[]> {
    try {
      await this.collection.insertMany(candidates, { ordered: false });
      return candidates;
    } catch (error) {
      if (!(error instanceof MongoBulkWriteError)) throw error;

      const failed = new Set<number>();
      for (const writeError of [error.writeErrors].flat()) {
        if (writeError.code !== DUPLICATE_KEY) throw error;
        failed.add(writeError.index);
      }
      return candidates.filter((_, index) => !failed.has(index));
    }
  }

  private async latest(keys: readonly string[]): Promise<Map<string, LeaseDocument>> {
    const documents = await this.collection.find({ key: { $in: [...keys] } }).toArray();
    const latest = new Map<string, LeaseDocument>();
    for (const document of documents) {
      const known = latest.get(document.key);
      if (known === undefined || known.generation < document.generation) {
        latest.set(document.key, document);
      }
    }
    return latest;
  }

  private async prune(won: readonly LeaseDocument[]): Promise<void> {
    await this.collection.deleteMany({
      key: { $in: won.map((document) => document.key) },
      _id: { $nin: won.map((document) => document._id) },
    });
  }

  private ensureIndex(): Promise<unknown> {
    this.indexReady ??= this.collection.createIndex({ key: 1, generation: -1 }).catch((error) => {
      this.indexReady = undefined;
      throw error;
    });
    return this.indexReady;
  }
}
