/**
 * Cryptographically secure random bytes, drawn from crypto.getRandomValues in blocks. In Node 20
 * one call costs about 3 µs whatever its length up to a few KiB, which is several percent of an
 * ML-KEM operation, so small requests are served from a block and each served byte is zeroed.
 */

/** Size of the block refilled at once, in bytes. */
const BLOCK_LENGTH = 4096;
/** Largest length one crypto.getRandomValues call accepts, in bytes. */
const MAX_RANDOM_CHUNK = 65536;

const block = new Uint8Array(BLOCK_LENGTH);
let offset = BLOCK_LENGTH;

/** Fills `target` with random bytes. */
export function fillRandom(target: Uint8Array): void {
  if (target.length > BLOCK_LENGTH) {
    for (let start = 0; start < target.length; start += MAX_RANDOM_CHUNK) {
      globalThis.crypto.getRandomValues(target.subarray(start, start + MAX_RANDOM_CHUNK));
    }
    return;
  }
  let written = 0;
  while (written < target.length) {
    if (offset === BLOCK_LENGTH) {
      globalThis.crypto.getRandomValues(block);
      offset = 0;
    }
    const count = Math.min(target.length - written, BLOCK_LENGTH - offset);
    target.set(block.subarray(offset, offset + count), written);
    block.fill(0, offset, offset + count);
    offset += count;
    written += count;
  }
}
