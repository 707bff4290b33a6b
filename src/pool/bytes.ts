/** Helpers for the byte arrays inside requests and results. */

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
