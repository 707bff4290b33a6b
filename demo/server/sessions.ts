/**
 * Login sessions kept in MongoDB. The cookie carries 32 random bytes (base64url); the database
 * stores only their SHA-256, so a copy of the collection does not hand out live sessions.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Collection, Db } from 'mongodb';

/** Random bytes behind a session id. */
const SESSION_ID_BYTES = 32;
/** How long a session lasts, in seconds. */
export const SESSION_TTL_SECONDS = 8 * 60 * 60;
/** Name of the collection that stores sessions. */
export const SESSIONS_COLLECTION = 'demoSessions';

/** Login method that opened a session. */
export type LoginMethod = 'signature' | 'password';

interface SessionDocument {
  _id: string;
  email: string;
  method: LoginMethod;
  createdAt: Date;
  expiresAt: Date;
}

/** A live session. */
export interface Session {
  email: string;
  method: LoginMethod;
  expiresAt: Date;
}

function hashSessionId(sessionId: string): string {
  return createHash('sha256').update(sessionId, 'utf8').digest('hex');
}

/** Opens, looks up and closes sessions. */
export class SessionStore {
  readonly #collection: Collection<SessionDocument>;
  readonly #now: () => number;

  constructor(db: Db, now: () => number) {
    this.#collection = db.collection<SessionDocument>(SESSIONS_COLLECTION);
    this.#now = now;
  }

  /** Opens a session for `email` and returns its id, which only the cookie carries. */
  async open(email: string, method: LoginMethod): Promise<string> {
    const sessionId = randomBytes(SESSION_ID_BYTES).toString('base64url');
    const createdAt = new Date(this.#now());

    await this.#collection.insertOne({
      _id: hashSessionId(sessionId),
      email,
      method,
      createdAt,
      expiresAt: new Date(createdAt.getTime() + SESSION_TTL_SECONDS * 1000),
    });
    return sessionId;
  }

  /** Returns the session `sessionId`, or null when it is unknown or expired. */
  async find(sessionId: string | undefined): Promise<Session | null> {
    if (sessionId === undefined || sessionId.length === 0) {
      return null;
    }
    const document = await this.#collection.findOne({ _id: hashSessionId(sessionId) });
    if (document === null || document.expiresAt.getTime() <= this.#now()) {
      return null;
    }
    return { email: document.email, method: document.method, expiresAt: document.expiresAt };
  }

  /** Deletes the session `sessionId`, if it exists. */
  async close(sessionId: string): Promise<void> {
    await this.#collection.deleteOne({ _id: hashSessionId(sessionId) });
  }

  /**
   * Deletes every session of `email` except `keepSessionId` and returns how many there were.
   * Other servers that share the database see the deletion on their next look-up.
   */
  async closeOthers(email: string, keepSessionId: string | undefined): Promise<number> {
    const filter =
      keepSessionId === undefined || keepSessionId.length === 0
        ? { email }
        : { email, _id: { $ne: hashSessionId(keepSessionId) } };
    const result = await this.#collection.deleteMany(filter);
    return result.deletedCount;
  }

  /** Deletes every expired session and returns how many there were. */
  async sweep(): Promise<number> {
    const result = await this.#collection.deleteMany({
      expiresAt: { $lte: new Date(this.#now()) },
    });
    return result.deletedCount;
  }
}
