/**
 * Interface between the demo's routes and the user store, and the JSON form of a user that the
 * routes return. The implementation (store-users.ts) sits on the SDK's persistence layer.
 */

/** A user as the routes see it: public keys as base64, no password hash. */
export interface DemoUser {
  /** The user document's `_id` as hex; never sent to the page. */
  id: string;
  email: string;
  pqcEnabled: boolean;
  classicalFallback: boolean;
  pqcKeyId: string | null;
  pqcPublicKey: string | null;
  pqcSignaturePublicKey: string | null;
  pqcKeyGeneratedAt: Date | null;
  pqcKeyExpiresAt: Date | null;
  lastLoginAt: Date | null;
  lockUntil: Date | null;
}

/** Result of a login attempt after the lockout rule was applied, and the lock it left. */
export interface LoginOutcome {
  result: 'accepted' | 'rejected' | 'locked';
  /** End of the account's lock, or null when it is not locked. */
  lockUntil: Date | null;
}

/** The user operations the routes call. */
export interface DemoUsers {
  /** Creates a user with a bcrypt hash of `password`; rejects with a conflict for a taken email. */
  create(email: string, password: string): Promise<DemoUser>;
  /** Returns the user with `email` (normalised by the store), or null. */
  findByEmail(email: string): Promise<DemoUser | null>;
  /** Checks `password` and records the attempt under the lockout rule. */
  authenticate(email: string, password: string): Promise<LoginOutcome>;
  /**
   * Records a login attempt whose proof (a signature here) was checked elsewhere, under the
   * lockout rule: a success sets lastLoginAt and clears the counter unless the account is locked.
   */
  recordLoginAttempt(email: string, succeeded: boolean): Promise<LoginOutcome>;
  /**
   * Stores the public keys (after length and modulus checks) and returns the user. The write
   * fails with `ERR_STORE_CONFLICT` unless the user's current key id is `replacesKeyId` (null
   * for a user without keys).
   */
  registerKeys(
    email: string,
    kemPublicKey: Uint8Array,
    signaturePublicKey: Uint8Array,
    replacesKeyId: string | null,
  ): Promise<DemoUser>;
  /** Returns whether a user other than `email` stores either public key. */
  hasOtherHolder(
    email: string,
    kemPublicKey: Uint8Array,
    signaturePublicKey: Uint8Array,
  ): Promise<boolean>;
  /** Turns password login on or off. */
  setClassicalFallback(email: string, enabled: boolean): Promise<DemoUser>;
}

/** The JSON form of a user sent to the page. */
export interface UserView {
  email: string;
  pqcEnabled: boolean;
  classicalFallback: boolean;
  pqcKeyId: string | null;
  pqcKeyGeneratedAt: string | null;
  pqcKeyExpiresAt: string | null;
  lastLoginAt: string | null;
}

/** Returns what the page may see of `user`. */
export function toUserView(user: DemoUser): UserView {
  return {
    email: user.email,
    pqcEnabled: user.pqcEnabled,
    classicalFallback: user.classicalFallback,
    pqcKeyId: user.pqcKeyId,
    pqcKeyGeneratedAt: user.pqcKeyGeneratedAt?.toISOString() ?? null,
    pqcKeyExpiresAt: user.pqcKeyExpiresAt?.toISOString() ?? null,
    lastLoginAt: user.lastLoginAt?.toISOString() ?? null,
  };
}
