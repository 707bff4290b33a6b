/**
 * The AES-256 CTR_DRBG of the NIST PQC submission kit (rng.c), which liboqs's known-answer
 * tests use as their randomness source. No derivation function, no reseeding.
 */
import { createCipheriv } from 'node:crypto';

export class NistDrbg {
  private key = new Uint8Array(32);
  private v = new Uint8Array(16);

  constructor(entropy: Uint8Array) {
    if (entropy.length !== 48) throw new Error(`entropy must be 48 bytes, got ${entropy.length}`);
    this.update(entropy);
  }

  read(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let offset = 0; offset < length; offset += 16) {
      this.increment();
      out.set(this.encrypt(this.v).subarray(0, Math.min(16, length - offset)), offset);
    }
    this.update();
    return out;
  }

  private update(provided?: Uint8Array): void {
    const temp = new Uint8Array(48);
    for (let i = 0; i < 3; i++) {
      this.increment();
      temp.set(this.encrypt(this.v), i * 16);
    }
    if (provided !== undefined) {
      for (let i = 0; i < 48; i++) temp[i]! ^= provided[i]!;
    }
    this.key = temp.slice(0, 32);
    this.v = temp.slice(32, 48);
  }

  private increment(): void {
    for (let i = 15; i >= 0; i--) {
      if (this.v[i] === 0xff) {
        this.v[i] = 0;
      } else {
        this.v[i]!++;
        break;
      }
    }
  }

  private encrypt(block: Uint8Array): Uint8Array {
    const cipher = createCipheriv('aes-256-ecb', this.key, null);
    cipher.setAutoPadding(false);
    return new Uint8Array(Buffer.concat([cipher.update(block), cipher.final()]));
  }
}
