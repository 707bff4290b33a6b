/**
 * One-time login challenges kept in MongoDB. Each challenge carries 32 random bytes for the
 * ML-DSA signature and an ML-KEM ciphertext for the second factor. The server keeps only the
 * HMAC-SHA-256 tag it expects back, never the KEM shared secret itself.
 *
 * A request consumes a challenge by inserting a claim keyed by the challenge id, and the unique
 * `_id` lets exactly one of two racing requests succeed. `findOneAndDelete` is not enough: on
 * FerretDB v1.24.2 with the SQLite backend, two concurrent calls on one document both returned it
 * in 192 of 200 trials. FerretDB has no TTL indexes either, so expiry is checked on consume and
 * expired challenges and claims are swept when new challenges are issued and on a timer.
 *
 * The cap on open challenges per user is kept by slot documents in the same way: each open
 * challenge occupies one of {@link MAX_OPEN_CHALLENGES} slots whose `_id` is `<userId>:<slot>`,
 * and a new challenge needs an insert of a free slot to succeed. A count read before the insert
 * would let concurrent requests all pass. Freeing a slot must not delete a newer occupant with
 * the same `_id`. FerretDB v1.24.2 deletes by reading the matching documents and then deleting
 * their `_id`s, so a stale delete of an expired slot removed a fresh one and let a sixth
 * challenge in. So each occupancy is freed only by the request that first inserts its release
 * document, `<slotId>:<challengeId>` in {@link SLOT_RELEASES_COLLECTION}.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { Binary, MongoServerError } from 'mongodb';
import type { Collection, Db } from 'mongodb';

/** Bytes of randomness the client signs. */
export const CHALLENGE_LENGTH = 32;
/** Random bytes behind a challenge id; the id is their base64url form. */
const CHALLENGE_ID_BYTES = 32;
/** Characters of a challenge id: unpadded base64url of {@link CHALLENGE_ID_BYTES} bytes. */
export const CHALLENGE_ID_LENGTH = 43;
/** How long a challenge stays valid, in milliseconds. */
export const CHALLENGE_TTL_MS = 2 * 60 * 1000;
/** Name of the collection that stores challenges. */
export const CHALLENGES_COLLECTION = 'loginChallenges';
/** Name of the collection of claims, one per consumed challenge. */
export const CLAIMS_COLLECTION = 'loginChallengeClaims';
/** Name of the collection of slot documents, one per open challenge. */
export const SLOTS_COLLECTION = 'loginChallengeSlots';
/** Name of the collection of release documents, one per slot occupancy being freed. */
export const SLOT_RELEASES_COLLECTION = 'loginChallengeSlotReleases';
/**
 * Maximum open (unexpired and unused) challenges per user. A sign-in uses one challenge, so five
 * leave room for retries and a few open tabs within the two-minute lifetime. A client that loops
 * on the endpoint gets at most five stored challenges per user, and so at most five encapsulations
 * per user every two minutes, even when its requests run in parallel on several servers.
 */
export const MAX_OPEN_CHALLENGES = 5;
/** MongoDB's duplicate key error code, which FerretDB returns too. */
const DUPLICATE_KEY = 11000;

interface ChallengeDocument {
  _id: string;
  /** `_id` of the slot document that this challenge occupies. */
  slotId: string;
  email: string;
  pqcKeyId: string;
  challenge: Binary;
  kemProofTag: Binary;
  createdAt: Date;
  expiresAt: Date;
}

interface ClaimDocument {
  _id: string;
  claimedAt: Date;
  /** Expiry of the claimed challenge; the claim is swept after it. */
  expiresAt: Date;
}

interface SlotDocument {
  /** `<userId>:<slot>` with slot 0 to {@link MAX_OPEN_CHALLENGES} - 1. */
  _id: string;
  userId: string;
  challengeId: string;
  /** Expiry of the challenge; after it the slot is free again. */
  expiresAt: Date;
}

interface SlotReleaseDocument {
  /** `<slotId>:<challengeId>` of the occupancy being freed. */
  _id: string;
  /** One challenge lifetime after the occupancy expired; the sweep deletes it then. */
  expiresAt: Date;
}

/** A slot taken for a challenge that is not stored yet: its id, times and slot. */
export interface ChallengeReservation {
  challengeId: string;
  slotId: string;
  createdAt: Date;
  expiresAt: Date;
}

/** A challenge as handed to the client. */
export interface IssuedChallenge {
  challengeId: string;
  challenge: Uint8Array;
  expiresAt: Date;
}

/** A challenge taken out of the store by {@link ChallengeStore.consume}. */
export interface ConsumedChallenge {
  email: string;
  /** Key pair the challenge was issued for; the login fails if the user's keys changed since. */
  pqcKeyId: string;
  challenge: Uint8Array;
  kemProofTag: Uint8Array;
  expired: boolean;
}

/** A user's open challenges: how many there are and when the first of them expires. */
export interface OpenChallenges {
  count: number;
  /** Expiry of the open challenge that expires first, or null when none is open. */
  firstExpiresAt: Date | null;
}

/**
 * Computes the second-factor proof: HMAC-SHA-256 keyed with the ML-KEM shared secret over the
 * UTF-8 bytes of the challenge id.
 */
export function kemProofTag(sharedSecret: Uint8Array, challengeId: string): Uint8Array {
  return new Uint8Array(createHmac('sha256', sharedSecret).update(challengeId, 'utf8').digest());
}

function toConsumed(document: ChallengeDocument, expired: boolean): ConsumedChallenge {
  return {
    email: document.email,
    pqcKeyId: document.pqcKeyId,
    challenge: new Uint8Array(document.challenge.value()),
    kemProofTag: new Uint8Array(document.kemProofTag.value()),
    expired,
  };
}

/** Issues, consumes and sweeps login challenges. */
export class ChallengeStore {
  readonly #collection: Collection<ChallengeDocument>;
  readonly #claims: Collection<ClaimDocument>;
  readonly #slots: Collection<SlotDocument>;
  readonly #slotReleases: Collection<SlotReleaseDocument>;
  readonly #now: () => number;
  readonly #ttlMs: number;

  constructor(db: Db, now: () => number, ttlMs = CHALLENGE_TTL_MS) {
    this.#collection = db.collection<ChallengeDocument>(CHALLENGES_COLLECTION);
    this.#claims = db.collection<ClaimDocument>(CLAIMS_COLLECTION);
    this.#slots = db.collection<SlotDocument>(SLOTS_COLLECTION);
    this.#slotReleases = db.collection<SlotReleaseDocument>(SLOT_RELEASES_COLLECTION);
    this.#now = now;
    this.#ttlMs = ttlMs;
  }

  /**
   * Creates the indexes that the per-user count of open challenges and the sweeps filter on.
   * FerretDB v1 has no TTL indexes, so these only speed up the queries and the sweeps stay.
   */
  async createIndexes(): Promise<void> {
    await this.#collection.createIndex({ email: 1, expiresAt: 1 }, { name: 'email_1_expiresAt_1' });
    await this.#collection.createIndex({ expiresAt: 1 }, { name: 'expiresAt_1' });
    await this.#claims.createIndex({ expiresAt: 1 }, { name: 'expiresAt_1' });
    await this.#slots.createIndex({ userId: 1, expiresAt: 1 }, { name: 'userId_1_expiresAt_1' });
    await this.#slotReleases.createIndex({ expiresAt: 1 }, { name: 'expiresAt_1' });
  }

  /**
   * Counts the open challenges of user `userId` by their slots in the database, so the count
   * covers every server that shares it.
   */
  async findOpen(userId: string): Promise<OpenChallenges> {
    const filter = { userId, expiresAt: { $gt: new Date(this.#now()) } };
    const count = await this.#slots.countDocuments(filter);
    if (count === 0) {
      return { count, firstExpiresAt: null };
    }
    const first = await this.#slots.findOne(filter, {
      sort: { expiresAt: 1 },
      projection: { expiresAt: 1 },
    });
    return { count, firstExpiresAt: first?.expiresAt ?? null };
  }

  /**
   * Takes a free slot for a new challenge of user `userId` and returns the reservation, or null
   * when all {@link MAX_OPEN_CHALLENGES} slots contain open challenges. First deletes the user's
   * expired slots. The unique `_id` of each slot lets only one request take it, on every server.
   * A null result writes nothing unless an expired slot was freed.
   */
  async reserve(userId: string): Promise<ChallengeReservation | null> {
    const createdAt = new Date(this.#now());
    const expiresAt = new Date(createdAt.getTime() + this.#ttlMs);
    const challengeId = randomBytes(CHALLENGE_ID_BYTES).toString('base64url');
    const expired = await this.#slots.find({ userId, expiresAt: { $lte: createdAt } }).toArray();
    for (const slot of expired) {
      await this.#freeSlot(slot._id, slot.challengeId, slot.expiresAt);
    }

    for (let slot = 0; slot < MAX_OPEN_CHALLENGES; slot += 1) {
      const slotId = `${userId}:${slot}`;
      try {
        await this.#slots.insertOne({ _id: slotId, userId, challengeId, expiresAt });
        return { challengeId, slotId, createdAt, expiresAt };
      } catch (error) {
        if (!(error instanceof MongoServerError && error.code === DUPLICATE_KEY)) {
          throw error;
        }
      }
    }
    return null;
  }

  /** Frees the slot of a reservation whose challenge was not stored. */
  async release(reservation: ChallengeReservation): Promise<void> {
    await this.#freeSlot(reservation.slotId, reservation.challengeId, reservation.expiresAt);
  }

  /**
   * Deletes slot `slotId` if this request is the first to insert the release document of its
   * occupancy by `challengeId`. Only that request deletes it, so no delete of this occupancy can
   * hit a later occupant. A request that stops between the two steps leaves the slot taken until
   * the sweep deletes the release document, and the next reserve frees it then.
   */
  async #freeSlot(slotId: string, challengeId: string, expiresAt: Date): Promise<void> {
    try {
      await this.#slotReleases.insertOne({
        _id: `${slotId}:${challengeId}`,
        expiresAt: new Date(expiresAt.getTime() + this.#ttlMs),
      });
    } catch (error) {
      if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) {
        return;
      }
      throw error;
    }
    await this.#slots.deleteOne({ _id: slotId, challengeId });
  }

  /**
   * Stores the challenge of `reservation` for `email` and its key pair `pqcKeyId`, whose second
   * factor expects the HMAC of the id under `sharedSecret`, and returns what the client needs to
   * respond to it.
   */
  async issue(
    reservation: ChallengeReservation,
    email: string,
    pqcKeyId: string,
    sharedSecret: Uint8Array,
  ): Promise<IssuedChallenge> {
    const { challengeId, slotId, createdAt, expiresAt } = reservation;
    const challenge = new Uint8Array(randomBytes(CHALLENGE_LENGTH));

    await this.#collection.insertOne({
      _id: challengeId,
      slotId,
      email,
      pqcKeyId,
      challenge: new Binary(challenge),
      kemProofTag: new Binary(kemProofTag(sharedSecret, challengeId)),
      createdAt,
      expiresAt,
    });
    return { challengeId, challenge, expiresAt };
  }

  /**
   * Claims and removes the challenge `challengeId` and returns it, or null when it does not exist
   * or another request claimed it first. An expired challenge comes back with `expired` set and is
   * left for the sweep. A challenge that is unknown, or already expired when read, writes nothing.
   */
  async consume(challengeId: string): Promise<ConsumedChallenge | null> {
    const document = await this.#collection.findOne({ _id: challengeId });
    if (document === null) {
      return null;
    }
    if (this.#isExpired(document)) {
      return toConsumed(document, true);
    }

    try {
      await this.#claims.insertOne({
        _id: challengeId,
        claimedAt: new Date(this.#now()),
        expiresAt: document.expiresAt,
      });
    } catch (error) {
      if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) {
        return null;
      }
      throw error;
    }
    await this.#collection.deleteOne({ _id: challengeId });
    await this.#freeSlot(document.slotId, challengeId, document.expiresAt);

    // Check the clock again after the claim. A request that stalled between the read and the
    // claim may insert a claim that the sweep already deleted, but then it finds the challenge
    // expired.
    return toConsumed(document, this.#isExpired(document));
  }

  #isExpired(document: ChallengeDocument): boolean {
    return document.expiresAt.getTime() <= this.#now();
  }

  /**
   * Deletes every expired challenge, claim and slot release document and returns how many
   * challenges there were. Expired slots stay until their user's next reserve frees them, so
   * that only one request ever deletes a slot occupancy.
   */
  async sweep(): Promise<number> {
    const expired = { expiresAt: { $lte: new Date(this.#now()) } };
    const result = await this.#collection.deleteMany(expired);
    await this.#claims.deleteMany(expired);
    await this.#slotReleases.deleteMany(expired);
    return result.deletedCount;
  }
}
