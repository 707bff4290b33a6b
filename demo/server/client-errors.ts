/**
 * The HTTP server's `clientError` listener. A request that Node's HTTP parser rejects never
 * reaches the request listener, so this listener writes the JSON error response straight to the
 * socket and logs a counted, rate-limited line.
 */
import type { ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { SECURITY_HEADERS } from './http.js';
import { LogRateLimiter } from './log-limiter.js';

/** Error raised by Node's HTTP parser or its request timers. */
type ClientError = Error & { code?: string };

function describeError(code: string | undefined): { status: number; code: string } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, code: 'ERR_HEADERS_TOO_LARGE' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, code: 'ERR_REQUEST_TIMEOUT' };
    default:
      return { status: 400, code: 'ERR_MALFORMED_REQUEST' };
  }
}

function errorResponse(status: number, code: string, message: string): string {
  const body = JSON.stringify({ error: { code, message } });
  const headers = {
    ...SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    connection: 'close',
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** Builds the `clientError` listener, which sends a JSON error and closes the connection. */
export function createClientErrorListener(
  logger: Logger,
): (error: ClientError, socket: Socket) => void {
  const limiter = new LogRateLimiter();

  return (error, socket) => {
    if (error.code === 'ECONNRESET') {
      logger.debug({ remoteAddress: socket.remoteAddress }, 'client reset the connection');
      socket.destroy();
      return;
    }

    const { status, code } = describeError(error.code);
    const counts = limiter.record('malformed request');
    if (counts !== undefined) {
      // Log only the code and message, because the error's rawPacket can contain credentials.
      logger.info(
        {
          status,
          code: error.code,
          error: error.message,
          remoteAddress: socket.remoteAddress,
          ...counts,
        },
        'malformed HTTP request rejected',
      );
    }

    // Node attaches the in-flight response to the socket as _httpMessage. Once that response
    // has sent its headers, another status line would corrupt the stream, so only close.
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (socket.writable && inFlight?.headersSent !== true) {
      const message = `the request is not valid HTTP/1.1 (${error.message}). Fix the request and send it on a new connection`;
      socket.end(errorResponse(status, code, message));
    } else {
      socket.destroy();
    }
  };
}
