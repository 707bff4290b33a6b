/**
 * Carries errors from a worker to the main thread. Structured clone and comlink both keep only
 * an error's message and name, so the worker sends a plain description instead. The main
 * thread rebuilds an instance of the same SDK class from it, with the same `code`, `name`,
 * `message` and primitive fields (such as `expected` and `actual` of an InvalidLengthError).
 *
 * Only string, number and boolean fields cross, so no byte array attached to an error can
 * carry key material to the other thread.
 */
import * as sdkErrors from '../errors.js';
import { PqcError } from '../errors.js';
import type { PqcErrorCode } from '../errors.js';
import * as poolErrors from './errors.js';

/** Plain description of an error that survives structured clone. */
export interface SerializedError {
  /** Class name, for example `InvalidLengthError`. */
  name: string;
  message: string;
  /** `PqcError.code`, when the error is one of the SDK's. */
  code?: string;
  /** Stack trace in the worker. */
  stack?: string;
  /** Own string, number and boolean properties other than the ones above. */
  fields: Record<string, string | number | boolean>;
  cause?: SerializedError;
}

/** Maximum number of nested causes that are carried. */
const MAX_CAUSE_DEPTH = 4;
const RESERVED_FIELDS = new Set(['name', 'message', 'code', 'stack', 'cause']);

type ErrorClass = abstract new (...args: never[]) => Error;

/** Every PqcError subclass of the SDK, by class name. */
const SDK_ERROR_CLASSES = new Map<string, ErrorClass>();
for (const value of [...Object.values(sdkErrors), ...Object.values(poolErrors)]) {
  if (typeof value === 'function' && value.prototype instanceof PqcError) {
    SDK_ERROR_CLASSES.set(value.name, value as ErrorClass);
  }
}

/** Built-in error classes whose instances are rebuilt as themselves. */
const STANDARD_ERROR_CLASSES: Record<string, ErrorConstructor> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};

/** Describes `error` (any thrown value) as plain data. */
export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) {
    return { name: 'Error', message: `non-error value thrown: ${String(error)}`, fields: {} };
  }

  const fields: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(error)) {
    const primitive =
      typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
    if (primitive && !RESERVED_FIELDS.has(key)) {
      fields[key] = value;
    }
  }

  const serialized: SerializedError = { name: error.name, message: error.message, fields };
  if (error instanceof PqcError) serialized.code = error.code;
  if (error.stack !== undefined) serialized.stack = error.stack;
  if (error.cause !== undefined && depth < MAX_CAUSE_DEPTH) {
    serialized.cause = serializeError(error.cause, depth + 1);
  }
  return serialized;
}

/**
 * Rebuilds an error described by {@link serializeError}. SDK errors become instances of their
 * own class, or of PqcError when the class is unknown here but a code was sent. Built-in
 * errors become their built-in class, and anything else becomes an Error with the sent name.
 */
export function deserializeError(serialized: SerializedError, messageSuffix = ''): Error {
  const message = serialized.message + messageSuffix;
  const options =
    serialized.cause === undefined ? undefined : { cause: deserializeError(serialized.cause) };

  let error: Error;
  const sdkClass = SDK_ERROR_CLASSES.get(serialized.name);
  if (sdkClass !== undefined || serialized.code !== undefined) {
    // The subclasses' constructors take different arguments, so build the base class and give
    // the instance the right prototype. instanceof, name, code and message then all match.
    error = new PqcError((serialized.code ?? 'ERR_INTERNAL') as PqcErrorCode, message, options);
    Object.setPrototypeOf(error, (sdkClass ?? PqcError).prototype);
  } else {
    const standardClass = STANDARD_ERROR_CLASSES[serialized.name] ?? Error;
    error = new standardClass(message, options);
  }

  error.name = serialized.name;
  Object.assign(error, serialized.fields);
  if (serialized.stack !== undefined) {
    error.stack = serialized.stack;
  }
  return error;
}
