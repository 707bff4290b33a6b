/**
 * Validation around migrations: snapshots compared before and after (snapshot.ts) and rule
 * checks of the current users (user-rules.ts).
 */
export * from './snapshot.js';
export * from './user-rules.js';
