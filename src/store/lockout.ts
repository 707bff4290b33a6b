/**
 * The login lockout rule as a pure function of the stored state: after `maxFailedAttempts`
 * consecutive failures the account is locked for `lockDurationMs`. Failures while locked are
 * still counted but do not extend the lock. A success resets the counter and the lock and
 * records `lastLoginAt`, unless the account is locked; then it changes nothing. Once a lock has
 * expired, the next attempt starts from a counter of 0, so one more typo does not lock again.
 */
import { InvalidArgumentError } from '../errors.js';

/** Lockout thresholds. */
export interface LockoutPolicy {
  /** Consecutive failures that lock the account. */
  maxFailedAttempts: number;
  /** Lock duration in milliseconds. */
  lockDurationMs: number;
}

/** QynAuth's rule: 5 consecutive failures lock the account for 30 minutes. */
export const DEFAULT_LOCKOUT_POLICY: LockoutPolicy = {
  maxFailedAttempts: 5,
  lockDurationMs: 30 * 60 * 1000,
};

/** The lockout fields of a user document. */
export interface LoginState {
  failedLoginAttempts: number;
  lockUntil: Date | null;
  lastLoginAt: Date | null;
}

/** Result of one login attempt: accepted, rejected (wrong password), or locked. */
export type LoginResult = 'accepted' | 'rejected' | 'locked';

/** Outcome of applying one attempt: the result and the state to store, `null` for no change. */
export interface LoginTransition {
  result: LoginResult;
  next: LoginState | null;
}

/** Returns the state after one login attempt whose password check gave `passwordMatches`. */
export function nextLoginState(
  state: LoginState,
  passwordMatches: boolean,
  now: Date,
  policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY,
): LoginTransition {
  const lockActive = state.lockUntil !== null && state.lockUntil.getTime() > now.getTime();
  const lockExpired = state.lockUntil !== null && !lockActive;
  const failures = lockExpired ? 0 : state.failedLoginAttempts;
  const lockUntil = new Date(now.getTime() + policy.lockDurationMs);

  if (!passwordMatches) {
    const count = failures + 1;
    if (lockActive) {
      return { result: 'locked', next: { ...state, failedLoginAttempts: count } };
    }
    if (count >= policy.maxFailedAttempts) {
      return { result: 'locked', next: { ...state, failedLoginAttempts: count, lockUntil } };
    }
    return { result: 'rejected', next: { ...state, failedLoginAttempts: count, lockUntil: null } };
  }

  if (lockActive) return { result: 'locked', next: null };

  // A counter at the threshold without a lock date (imported data, a lowered threshold) locks
  // now instead of letting this success reset it.
  if (failures >= policy.maxFailedAttempts) {
    return { result: 'locked', next: { ...state, failedLoginAttempts: failures, lockUntil } };
  }
  return { result: 'accepted', next: { failedLoginAttempts: 0, lockUntil: null, lastLoginAt: now } };
}

/** Throws `InvalidArgumentError` unless `policy` has a positive integer threshold and a positive duration. */
export function checkLockoutPolicy(policy: LockoutPolicy): LockoutPolicy {
  if (!Number.isSafeInteger(policy.maxFailedAttempts) || policy.maxFailedAttempts < 1) {
    throw new InvalidArgumentError(
      `maxFailedAttempts must be a positive integer, got ${String(policy.maxFailedAttempts)}`,
    );
  }
  if (!(policy.lockDurationMs > 0) || !Number.isFinite(policy.lockDurationMs)) {
    throw new InvalidArgumentError(
      `lockDurationMs must be a positive number of ms, got ${String(policy.lockDurationMs)}`,
    );
  }
  return policy;
}
