// Entry point of `npm run bench`. The benchmark is written in TypeScript, so this registers the
// tsx loader (a dev dependency) and runs bench/main.ts, which reads the command-line options.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
