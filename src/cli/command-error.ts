/** The error type of the CLI's own checks. */

/**
 * An expected failure of a command, with a message that names the cause and the next step.
 * `qynpqc` prints the message and exits with 2.
 */
export class CommandError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CommandError';
  }
}
