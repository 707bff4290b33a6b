/** Logger interface of the FerretDB launcher and build, and the stderr loggers they use. */

/** Logger for the start, stop, exit, fallback and build messages of the launcher. `pino` fits. */
export interface FerretDbLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

const ignore = (): void => {};

/** A logger that drops everything; the default when no logger is given. */
export const SILENT_LOGGER: FerretDbLogger = { info: ignore, warn: ignore };

function writeLine(fields: object, message: string): void {
  process.stderr.write(`ferretdb: ${message} ${JSON.stringify(fields)}\n`);
}

/** A logger that writes warnings to stderr and drops the rest, for test runs. */
export const STDERR_WARNINGS: FerretDbLogger = { info: ignore, warn: writeLine };

/** A logger that writes every message to stderr, for the build command. */
export const STDERR_ALL: FerretDbLogger = { info: writeLine, warn: writeLine };
