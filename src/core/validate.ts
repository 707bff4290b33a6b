/** Input checks shared by the algorithm objects; each runs once, at the public boundary. */
import { InvalidArgumentError, InvalidLengthError } from '../errors.js';

/**
 * Names the type of `value` for a message: `typeof` for primitives, `null`, and otherwise the
 * built-in or class name, such as ArrayBuffer, DataView, Int8Array, Array or Object.
 */
export function describeType(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (typeof value !== 'object') {
    return typeof value;
  }
  const tag = Object.prototype.toString.call(value).slice('[object '.length, -1);
  if (tag !== 'Object') {
    return tag;
  }
  const { constructor } = value as { constructor?: { name?: unknown } };
  const constructorName = constructor?.name;
  return typeof constructorName === 'string' && constructorName !== '' ? constructorName : 'Object';
}

/**
 * Returns whether `buffer` was detached, for example by transferring it to a worker. Node 20
 * (checked on v20.20.2) has no `ArrayBuffer.prototype.detached`, so where it is missing a
 * zero-length buffer is tested by constructing a view over it, which throws a TypeError only
 * when the buffer is detached.
 */
export function isDetached(buffer: ArrayBufferLike): boolean {
  const detached: unknown = (buffer as { detached?: unknown }).detached;
  if (typeof detached === 'boolean') {
    return detached;
  }
  if (buffer.byteLength !== 0) {
    return false;
  }
  try {
    new Uint8Array(buffer);
    return false;
  } catch (error) {
    if (error instanceof TypeError) {
      return true;
    }
    throw error;
  }
}

/** Suggests how to turn `value` into the Uint8Array `parameter` requires, or returns ''. */
function conversionHint(value: unknown, parameter: string): string {
  const type = describeType(value);
  if (type === 'ArrayBuffer' || type === 'SharedArrayBuffer') {
    return `; wrap it with new Uint8Array(${parameter})`;
  }
  if (type === 'Uint8Array') {
    // Only a Uint8Array of another realm fails instanceof, such as one from a vm context.
    return (
      `; it comes from another realm (a vm context or an iframe), so copy it with ` +
      `new Uint8Array(${parameter})`
    );
  }
  if (ArrayBuffer.isView(value)) {
    // new Uint8Array(view) would convert element values, so view the same bytes instead.
    return (
      `; view its bytes with new Uint8Array(${parameter}.buffer, ${parameter}.byteOffset, ` +
      `${parameter}.byteLength)`
    );
  }
  if (Array.isArray(value)) {
    return `; convert an array of byte values with Uint8Array.from(${parameter})`;
  }
  return '';
}

/**
 * Throws unless `value` is a Uint8Array whose buffer is still attached; `parameter` names it in
 * the message.
 */
export function requireBytes(value: unknown, parameter: string): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new InvalidArgumentError(
      `${parameter} must be a Uint8Array, got ${describeType(value)}` +
        conversionHint(value, parameter),
    );
  }
  // A view over a detached buffer reads as empty, and copying it into the module throws.
  if (value.length === 0 && isDetached(value.buffer)) {
    throw new InvalidArgumentError(
      `${parameter} is a Uint8Array over a detached ArrayBuffer; it was transferred to another ` +
        `thread or context, pass a copy`,
    );
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

/** Joins names as a list in prose: "a", "a and b", "a, b and c". */
function listNames(names: readonly string[]): string {
  if (names.length <= 1) {
    return names.join('');
  }
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** Describes the options `method` takes, for the end of a message. */
function describeAllowed(method: string, allowed: readonly string[]): string {
  if (allowed.length === 0) {
    return `${method} takes no options`;
  }
  if (allowed.length === 1) {
    return `the only option is ${allowed[0]}`;
  }
  return `the options are ${listNames(allowed)}`;
}

/**
 * Throws unless `options` is undefined or an options object, not an array, whose own keys are
 * all in `allowed`. A misspelled option such as `ctx` therefore fails instead of being ignored.
 * `allowed` is optional only so that callers which check the keys themselves keep compiling.
 * Without it, any key is accepted and only the shape of `options` is checked.
 */
export function requireOptions(
  options: unknown,
  method: string,
  allowed?: readonly string[],
): Record<string, unknown> {
  if (options === undefined) {
    return {};
  }
  const example =
    allowed === undefined || allowed.length === 0
      ? 'an options object'
      : `an options object such as { ${allowed[0]} }`;
  if (options instanceof Uint8Array || ArrayBuffer.isView(options)) {
    throw new InvalidArgumentError(
      `${method}: the last argument must be ${example}, got a byte array; pass it as a ` +
        `named option`,
    );
  }
  if (Array.isArray(options)) {
    throw new InvalidArgumentError(`${method}: the last argument must be ${example}, got an array`);
  }
  if (options === null) {
    throw new InvalidArgumentError(`${method}: options must be an object, got null`);
  }
  if (typeof options !== 'object') {
    throw new InvalidArgumentError(`${method}: options must be an object, got ${typeof options}`);
  }

  const fields = options as Record<string, unknown>;
  if (allowed !== undefined) {
    const unknown = Object.keys(fields).find((key) => !allowed.includes(key));
    if (unknown !== undefined) {
      throw new InvalidArgumentError(
        `${method}: unknown option ${JSON.stringify(unknown)}; ${describeAllowed(method, allowed)}`,
      );
    }
  }
  return fields;
}
