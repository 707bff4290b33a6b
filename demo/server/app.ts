/**
 * The demo's request handler: static files under a strict CSP, and the JSON API. Every handled
 * failure becomes `{ error: { code, message } }` with a 4xx status; anything else is logged with
 * the request id and returned as a 500 that reveals nothing.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { PqcError } from '../../src/errors.js';
import { HttpError, SECURITY_HEADERS, sendError } from './http.js';
import { createAccountRoutes } from './account-routes.js';
import { LogRateLimiter } from './log-limiter.js';
import { createLoginRoutes } from './login-routes.js';
import type { DemoServices, RouteContext, RouteHandler } from './route-context.js';
import type { StaticFile } from './static-files.js';

/** Status codes for the SDK's input errors: all of them are the client's fault. */
const PQC_ERROR_STATUS: Partial<Record<string, number>> = {
  ERR_INVALID_ARGUMENT: 400,
  ERR_INVALID_LENGTH: 400,
  ERR_INVALID_PUBLIC_KEY: 400,
  ERR_INVALID_ENCODING: 400,
  ERR_STORE_VALIDATION: 400,
  ERR_STORE_CONFLICT: 409,
  ERR_STORE_NOT_FOUND: 404,
};

function sendStatic(request: IncomingMessage, response: ServerResponse, file: StaticFile): void {
  response.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': file.contentType,
    'content-length': file.body.length,
    'cache-control': 'no-cache',
  });
  response.end(request.method === 'HEAD' ? undefined : file.body);
}

/** Turns what a route threw into the HttpError to send, or undefined for an unexpected error. */
function toHttpError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) {
    return error;
  }
  if (error instanceof PqcError) {
    const status = PQC_ERROR_STATUS[error.code];
    return status === undefined ? undefined : new HttpError(status, error.code, error.message);
  }
  return undefined;
}

/** Sets the Allow header on `response` and returns the 405 error for `method` on `path`. */
function methodNotAllowed(
  response: ServerResponse,
  path: string,
  allowed: readonly string[],
  method: string,
): HttpError {
  response.setHeader('allow', allowed.join(', '));
  return new HttpError(
    405,
    'ERR_METHOD_NOT_ALLOWED',
    `${truncate(path)} accepts ${allowed.join(', ')}, not ${truncate(method)}`,
  );
}

/** Characters of a request target or path that error messages and logs repeat. */
const MAX_TARGET_ECHO_LENGTH = 200;

/** Error codes with which Node's HTTP server ends the body of a request the client aborted. */
const ABORT_CODES = new Set(['ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE']);

/** Returns whether `error` comes from a client that closed the connection mid-request. */
function isClientAbort(request: IncomingMessage, error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && ABORT_CODES.has(code) && !request.complete;
}

/** Returns the log fields of a path: cut to the echo length, with the original length if cut. */
function pathFields(path: string): { path: string; pathLength?: number } {
  return path.length > MAX_TARGET_ECHO_LENGTH
    ? { path: truncate(path), pathLength: path.length }
    : { path };
}

function truncate(target: string): string {
  return target.length > MAX_TARGET_ECHO_LENGTH
    ? `${target.slice(0, MAX_TARGET_ECHO_LENGTH)}…`
    : target;
}

/**
 * Returns the path of the request target, or undefined when it is not a valid URL. Node's HTTP
 * parser passes targets such as `//%` through, which the WHATWG URL parser rejects.
 */
function parsePath(target: string): string | undefined {
  try {
    return new URL(target, 'http://127.0.0.1').pathname;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_INVALID_URL') {
      return undefined;
    }
    throw error;
  }
}

/** Builds the request listener of the demo server. */
export function createRequestListener(
  services: DemoServices,
  staticFiles: ReadonlyMap<string, StaticFile>,
  logger: Logger,
): RequestListener {
  const routes: ReadonlyMap<string, RouteHandler> = new Map(
    Object.entries({ ...createAccountRoutes(services), ...createLoginRoutes(services) }),
  );

  const rejections = new LogRateLimiter();

  return (request, response) => {
    const requestId = randomUUID();
    const method = request.method ?? 'GET';
    const target = request.url ?? '/';
    const path = parsePath(target);
    const log = logger.child({ requestId, method, ...pathFields(path ?? target) });

    const handle = async (): Promise<void> => {
      if (path === undefined) {
        throw new HttpError(
          400,
          'ERR_INVALID_URL',
          `request target ${JSON.stringify(truncate(target))} is not a valid URL. Send a path such as /api/session`,
        );
      }
      if (!path.startsWith('/api/')) {
        const file = staticFiles.get(path);
        if (file === undefined) {
          throw new HttpError(404, 'ERR_NOT_FOUND', `no file at ${truncate(path)}`);
        }
        if (method !== 'GET' && method !== 'HEAD') {
          throw methodNotAllowed(response, path, ['GET', 'HEAD'], method);
        }
        sendStatic(request, response, file);
        return;
      }

      const route = routes.get(`${method} ${path}`);
      if (route === undefined) {
        const known = [...routes.keys()].filter((key) => key.endsWith(` ${path}`));
        if (known.length === 0) {
          throw new HttpError(404, 'ERR_NOT_FOUND', `no API endpoint at ${truncate(path)}`);
        }
        const allowed = known.map((key) => key.split(' ')[0] ?? '');
        throw methodNotAllowed(response, path, allowed, method);
      }
      const context: RouteContext = { request, response, log };
      await route(context);
    };

    handle().catch((error: unknown) => {
      if (isClientAbort(request, error)) {
        // A client abort is not a server error, so the line carries the error code and no stack.
        log.debug({ code: (error as { code: string }).code }, 'client aborted the request');
        response.destroy();
        return;
      }
      const httpError = toHttpError(error);
      if (response.headersSent) {
        log.error({ err: error }, 'request failed after the response started');
        response.destroy();
        return;
      }
      if (httpError === undefined) {
        log.error({ err: error }, 'request failed');
        sendError(
          response,
          new HttpError(
            500,
            'ERR_INTERNAL',
            `internal error; the server log has request id ${requestId}`,
          ),
        );
        return;
      }

      const counts = rejections.record(httpError.code);
      if (counts !== undefined) {
        log.info({ status: httpError.status, code: httpError.code, ...counts }, 'request rejected');
      }
      if (httpError.status === 413) {
        // The rest of the body is not read, so the connection cannot carry another request.
        response.setHeader('connection', 'close');
      }
      sendError(response, httpError);
    });
  };
}
