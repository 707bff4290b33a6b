/**
 * `npm run demo`: starts the demo server on 127.0.0.1 and prints its URL.
 *
 * Environment: PORT (default: a free port), MONGODB_URI (default: start FerretDB with its data
 * in .data/demo-ferretdb), MONGODB_DATABASE (default: qynauth_demo), DEMO_DATA_DIR (FerretDB's
 * data directory), DEMO_PAGE_DIR (built page, default dist/demo), LOG_LEVEL (pino level,
 * default info). SIGINT or SIGTERM stops the server and the FerretDB it started.
 */
import { pino } from 'pino';
import { startDemo } from './server/start.js';

const logger = pino({ level: process.env['LOG_LEVEL'] ?? 'info' });

function readPort(text: string | undefined): number {
  if (text === undefined || text === '') {
    return 0;
  }
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be an integer from 0 to 65535, got ${JSON.stringify(text)}`);
  }
  return port;
}

function optional(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

async function main(): Promise<void> {
  const demo = await startDemo({
    logger,
    port: readPort(process.env['PORT']),
    mongodbUri: optional('MONGODB_URI'),
    databaseName: optional('MONGODB_DATABASE'),
    dataDirectory: optional('DEMO_DATA_DIR'),
    pageDirectory: optional('DEMO_PAGE_DIR'),
  });
  process.stdout.write(`QynAuth demo running at ${demo.url}\n`);

  const stop = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'stopping');
    demo.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'stopping failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  logger.fatal({ err: error }, 'demo server failed to start');
  process.exitCode = 1;
});
