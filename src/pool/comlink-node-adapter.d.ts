// comlink 4.4.2 ships node-adapter.d.ts beside node-adapter.mjs, but TypeScript's NodeNext
// resolution looks for node-adapter.d.mts, so the ES module's types are declared here.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  import type { NodeEndpoint } from 'comlink/dist/umd/node-adapter.js';

  export default function nodeEndpoint(endpoint: NodeEndpoint): Endpoint;
}
