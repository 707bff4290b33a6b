/** Logger interface of the store. The store is silent unless the caller passes one. */

/** Receives the store's fallbacks, retries and caught errors; `pino` loggers fit. */
export interface StoreLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const ignore = (): void => {};

/** A logger that drops everything; the default when no logger is given. */
export const SILENT_LOGGER: StoreLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
