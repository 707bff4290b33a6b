/** The qynpqc command line. */
import { Command } from 'commander';
import { PqcError } from '../errors.js';
import { registerCoreCommands } from './core-commands.js';
import { CommandError } from './command-error.js';
import { describeFileSystemError } from './files.js';
import { registerKeyCommands } from './key-commands.js';
import { registerMigrateCommands } from './migrate-commands.js';

const program = new Command()
  .name('qynpqc')
  .description(
    'Post-quantum ML-KEM (FIPS 203) and ML-DSA (FIPS 204) keys from the command line, and the ' +
      'MongoDB key store: migrations, backups, validation and enrollment',
  )
  .showHelpAfterError();

registerCoreCommands(program);
registerMigrateCommands(program);
registerKeyCommands(program);

/** Returns the commands that `args` invoke, outermost first (`migrate`, then `up`). */
function invokedCommands(args: readonly string[]): Command[] {
  const path: Command[] = [];
  let children = program.commands;
  for (const word of args) {
    const child = children.find((candidate) => candidate.name() === word);
    if (child === undefined) break;
    path.push(child);
    children = child.commands;
  }
  return path;
}

/**
 * Returns the one-line message for an error that is not one of the SDK's: what failed and how to
 * get details. The database commands log the error with its stack at `--log-level debug`.
 */
function unexpectedErrorMessage(error: unknown): string {
  const path = invokedCommands(process.argv.slice(2));
  const name = path.length === 0 ? 'command' : path.map((command) => command.name()).join(' ');
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const firstLine = reason.split('\n')[0];
  const logs = path.at(-1)?.options.some((option) => option.long === '--log-level') === true;
  const next = logs
    ? 'rerun with --log-level debug for details'
    : 'check the arguments, and report the command line if it fails again';
  return `qynpqc: ${name} failed unexpectedly: ${firstLine}; ${next}`;
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof PqcError) {
    console.error(`qynpqc: ${error.message} [${error.code}]`);
  } else if (error instanceof CommandError) {
    console.error(`qynpqc: ${error.message}`);
  } else {
    const fileSystemError = describeFileSystemError(error);
    console.error(fileSystemError === undefined ? unexpectedErrorMessage(error) : `qynpqc: ${fileSystemError}`);
  }
  process.exitCode = 2;
}
