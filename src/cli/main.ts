/** The qynpqc command line. */
import { Command } from 'commander';
import { PqcError } from '../errors.js';
import { registerCoreCommands } from './core-commands.js';
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

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof PqcError) {
    console.error(`qynpqc: ${error.message} [${error.code}]`);
  } else if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
    console.error(`qynpqc: file not found: ${(error as NodeJS.ErrnoException).path}`);
  } else {
    console.error(`qynpqc: ${(error as Error).message}`);
  }
  process.exitCode = 2;
}
