/**
 * Read-modify-write of one user document that concurrent writers cannot interleave.
 *
 * A caller passes a plan: a function from the current document to the change it wants. Plans
 * for the same filter that arrive while a write is in flight in this process are queued and then
 * applied one after the other to one read of the document, and written back in one update. So
 * 100 concurrent login attempts cost a few round trips, and each plan still sees the effect of
 * the ones before it. The queue only saves round trips, because each batch goes through the
 * database mechanism below like a single writer, so correctness does not depend on it. Without
 * it, more concurrent writers would retry or wait for the lease, and could exhaust the retries
 * or the lease wait sooner.
 *
 * Between processes: on MongoDB the write is one conditional `updateOne` whose filter repeats
 * the values the plans read; if another writer changed them first, nothing matches and the
 * plans are computed again on a fresh read. On FerretDB v1, where an update is not atomic, the
 * store holds the user's lease (lease.ts) from the read to the write instead. Writers outside
 * the store, such as the Portal Backend, take no lease, so on FerretDB their concurrent updates
 * to the same document can still overwrite the store's or be overwritten.
 */
import type { Filter, ObjectId, UpdateFilter } from 'mongodb';
import type { StoreContext } from './context.js';
import { StoreConflictError, StoreNotFoundError } from './errors.js';
import type { Lease, LeaseDocument } from './lease.js';
import type { UserDocument } from './schema.js';

/** Maximum number of read-recompute rounds of a conditional update before a conflict error. */
const MAX_CONDITIONAL_ATTEMPTS = 100;

/** Top-level fields to set and to remove. */
export interface UserChange {
  set?: Partial<UserDocument>;
  unset?: readonly (keyof UserDocument)[];
}

/** The change a plan asks for, or `null` for none, and the value to resolve with. */
export interface UserUpdatePlan<T> {
  change: UserChange | null;
  result: T;
}

/** Computes the plan from the current user document; throws to fail this plan alone. */
export type UserPlanner<T> = (user: UserDocument) => UserUpdatePlan<T>;

interface QueuedPlan {
  plan: UserPlanner<unknown>;
  guardFields: readonly (keyof UserDocument)[];
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface Settlement {
  queued: QueuedPlan;
  outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
}

/** Returns the lease key of a user document. */
export function userLeaseKey(id: ObjectId): string {
  return `user:${id.toHexString()}`;
}

/** Returns the error thrown when a user's lease stays held. */
export function userBusyError(holder: LeaseDocument): StoreConflictError {
  return new StoreConflictError(
    `user ${holder.key.slice('user:'.length)} is being updated by ${holder.owner}; retry later`,
  );
}

function describe(filter: Filter<UserDocument>): string {
  return JSON.stringify(filter, (_key, value: unknown) =>
    typeof value === 'string' ? value.slice(0, 80) : value,
  );
}

/** Applies queued plans to user documents; one instance per store context. */
class UserWriter {
  private readonly queues = new Map<string, QueuedPlan[]>();

  constructor(private readonly context: StoreContext) {}

  enqueue<T>(
    filter: Filter<UserDocument>,
    guardFields: readonly (keyof UserDocument)[],
    plan: UserPlanner<T>,
  ): Promise<T> {
    const key = JSON.stringify(filter);

    return new Promise<T>((resolve, reject) => {
      const queued: QueuedPlan = {
        plan,
        guardFields,
        resolve: resolve as (value: unknown) => void,
        reject,
      };
      const queue = this.queues.get(key);
      if (queue !== undefined) {
        queue.push(queued);
        return;
      }

      this.queues.set(key, [queued]);
      void this.drain(key, filter);
    });
  }

  private async drain(key: string, filter: Filter<UserDocument>): Promise<void> {
    for (;;) {
      const queue = this.queues.get(key) ?? [];
      const batch = queue.splice(0);
      if (batch.length === 0) {
        this.queues.delete(key);
        return;
      }

      try {
        const settlements = this.context.server.atomicUpdates
          ? await this.writeConditionally(filter, batch)
          : await this.writeUnderLease(filter, batch);
        for (const { queued, outcome } of settlements) {
          if (outcome.ok) queued.resolve(outcome.value);
          else queued.reject(outcome.error);
        }
      } catch (error) {
        for (const queued of batch) queued.reject(error);
      }
    }
  }

  private async writeConditionally(
    filter: Filter<UserDocument>,
    batch: readonly QueuedPlan[],
  ): Promise<Settlement[]> {
    for (let attempt = 1; attempt <= MAX_CONDITIONAL_ATTEMPTS; attempt += 1) {
      const user = await this.context.users.findOne(filter);
      if (user === null) throw new StoreNotFoundError(`no user matches ${describe(filter)}`);

      const { settlements, update } = applyPlans(user, batch);
      if (update === null) return settlements;

      const guard: Filter<UserDocument> = { _id: user._id };
      for (const field of new Set(batch.flatMap((queued) => queued.guardFields))) {
        Object.assign(guard, { [field]: user[field] ?? null });
      }
      const written = await this.context.users.updateOne(guard, update);
      if (written.matchedCount === 1) return settlements;

      this.context.logger.debug({ userId: user._id, attempt }, 'user changed concurrently; recomputing');
    }

    throw new StoreConflictError(
      `user ${describe(filter)} changed concurrently ${MAX_CONDITIONAL_ATTEMPTS} times; retry later`,
    );
  }

  private async writeUnderLease(
    filter: Filter<UserDocument>,
    batch: readonly QueuedPlan[],
  ): Promise<Settlement[]> {
    const located = await this.context.users.findOne(filter, { projection: { _id: 1 } });
    if (located === null) throw new StoreNotFoundError(`no user matches ${describe(filter)}`);

    const lease = await acquireUserLease(this.context, located._id);
    // NOTE: the lease is not renewed, so a read-to-write that outlasts userLeaseTtlMs (10 s by
    // default) may overlap with the next holder's.
    try {
      const user = await this.context.users.findOne({ _id: located._id });
      if (user === null) throw new StoreNotFoundError(`user ${located._id.toHexString()} was deleted`);

      const { settlements, update } = applyPlans(user, batch);
      if (update !== null) await this.context.users.updateOne({ _id: user._id }, update);
      return settlements;
    } finally {
      await lease.release();
    }
  }
}

/** Runs each plan on the document as changed by the plans before it; merges their changes. */
function applyPlans(
  user: UserDocument,
  batch: readonly QueuedPlan[],
): { settlements: Settlement[]; update: UpdateFilter<UserDocument> | null } {
  const current: Record<string, unknown> = { ...user };
  const set: Record<string, unknown> = {};
  const unset = new Set<string>();
  const settlements: Settlement[] = [];

  for (const queued of batch) {
    let planned: UserUpdatePlan<unknown>;
    try {
      planned = queued.plan(current as unknown as UserDocument);
    } catch (error) {
      settlements.push({ queued, outcome: { ok: false, error } });
      continue;
    }

    for (const [field, value] of Object.entries(planned.change?.set ?? {})) {
      current[field] = value;
      set[field] = value;
      unset.delete(field);
    }
    for (const field of planned.change?.unset ?? []) {
      delete current[field];
      delete set[field];
      unset.add(field);
    }
    settlements.push({ queued, outcome: { ok: true, value: planned.result } });
  }

  if (Object.keys(set).length === 0 && unset.size === 0) return { settlements, update: null };

  const update: Record<string, unknown> = {};
  if (Object.keys(set).length > 0) update.$set = set;
  if (unset.size > 0) update.$unset = Object.fromEntries([...unset].map((field) => [field, '']));
  return { settlements, update: update as UpdateFilter<UserDocument> };
}

const writers = new WeakMap<StoreContext, UserWriter>();

/**
 * Applies `plan` to the user matching `filter` as one isolated step and resolves with the plan's
 * result. `guardFields` lists every field the plan reads; on MongoDB the update only applies
 * while they still hold the values read. Rejects with `StoreNotFoundError` when no user matches,
 * with `StoreConflictError` when contention outlasts the retries or the lease wait, and with
 * whatever the plan throws.
 */
export function updateUser<T>(
  context: StoreContext,
  filter: Filter<UserDocument>,
  guardFields: readonly (keyof UserDocument)[],
  plan: UserPlanner<T>,
): Promise<T> {
  let writer = writers.get(context);
  if (writer === undefined) {
    writer = new UserWriter(context);
    writers.set(context, writer);
  }
  return writer.enqueue(filter, guardFields, plan);
}

/** Acquires the write lease of one user, waiting up to the context's lease wait. */
export async function acquireUserLease(context: StoreContext, id: ObjectId): Promise<Lease> {
  const { lease, takenOver } = await context.leases.acquire(userLeaseKey(id), {
    ttlMs: context.userLeaseTtlMs,
    waitMs: context.userLeaseWaitMs,
    onHeld: userBusyError,
  });
  if (takenOver !== undefined) {
    context.logger.warn(
      { userId: id, previousOwner: takenOver.owner, expiredAt: takenOver.expiresAt },
      'took over an expired user lease',
    );
  }
  return lease;
}
