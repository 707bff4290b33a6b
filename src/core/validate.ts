/** Input checks shared by the algorithm objects; each runs once, at the public boundary. */
import { InvalidArgumentError, InvalidLengthError } from '../errors.js';

/** Throws unless `value` is a Uint8Array; `parameter` names it in the message. */
export function requireBytes(value: unknown, parameter: string): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    const actual = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    throw new InvalidArgumentError(`${parameter} must be a Uint8Array, got ${actual}`);
  }
  return value;
}

/** Throws unless `value` is a Uint8Array of exactly `expected` bytes. */
export function requireLength(
  value: unknown,
  parameter: string,
  algorithm: string,
  expected: number,
): Uint8Array {
  const bytes = requireBytes(value, parameter);
  if (bytes.length !== expected) {
    throw new InvalidLengthError(parameter, algorithm, expected, bytes.length);
  }
  return bytes;
}

/** Throws unless `options` is undefined or a plain options object (not a byte array). */
export function requireOptions(options: unknown, method: string): Record<string, unknown> {
  if (options === undefined) {
    return {};
  }
  if (options instanceof Uint8Array || ArrayBuffer.isView(options)) {
    throw new InvalidArgumentError(
      `${method}: the last argument must be an options object such as { context } or ` +
        `{ randomness }, got a byte array; pass it as a named option`,
    );
  }
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`${method}: options must be an object, got ${typeof options}`);
  }
  return options as Record<string, unknown>;
}
