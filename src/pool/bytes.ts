/** Helpers for the byte arrays inside requests and results. */
import { isDetached } from '../core/validate.js';

/** Calls `visit` on every byte array in `values`, looking one level into plain objects. */
export function forEachBytes(values: readonly unknown[], visit: (bytes: Uint8Array) => void): void {
  for (const value of values) {
    if (value instanceof Uint8Array) {
      visit(value);
    } else if (typeof value === 'object' && value !== null) {
      for (const field of Object.values(value)) {
        if (field instanceof Uint8Array) visit(field);
      }
    }
  }
}

/** Zeroes every byte array in `values`; used on results that are discarded. */
export function wipeAll(values: readonly unknown[]): void {
  forEachBytes(values, (bytes) => bytes.fill(0));
}

/**
 * Returns whether a byte array inside `value`, searched through arrays and object fields, has a
 * detached buffer, as after it was transferred to another thread.
 */
export function containsDetachedBytes(value: unknown): boolean {
  if (value instanceof Uint8Array) {
    return isDetached(value.buffer);
  }
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  return Object.values(value).some((field) => containsDetachedBytes(field));
}
