// The layering of input/ (npm run check:deps): data flows one way, API → collector → forward → Fluent Bit, and
// every folder imports only from the layers below it. From the bottom:
//   input/*.ts foundations (types, errors, clock, backoff, durations, log, …)
//   input/di, input/forward        the two network clients (neither knows the other, nor the collector)
//   input/collector/metrics.ts     what the engine reports (a contract: types and a no-op)
//   input/collector/state          what a stream keeps on disk
//   input/collector/delivery       an event's delivery states: the ids in flight and delivered, their journal
//   input/collector/oracle         what Fluent Bit's HTTP server tells a restart (implements delivery's interface)
//   input/collector/fetch          reading time ranges from the API and handing new events to delivery
//   input/collector/engine         streams, backfills, the services check, the run
//   input/metrics.ts, cli.ts, …    the process: options, logging, metrics, the demo
/** Paths of a layer, as a regex. */
const C = '^input/collector/';
const layers = ['metrics[.]ts', 'state/', 'delivery/', 'oracle/', 'fetch/', 'engine/'];
/** The layers above layer i, which it may not import (oracle and fetch sit side by side: neither imports the other). */
const above = (i) => layers.slice(i + 1).map((l) => C + l);
const forbidden = layers.slice(0, -1).map((layer, i) => ({
  name: `collector-${layer.replace(/[^a-z]/g, '')}-not-above`,
  comment: `${C}${layer} imports nothing of the collector's layers above it`,
  severity: 'error',
  from: { path: C + layer },
  to: { path: layer === 'oracle/' ? above(i).filter((p) => !p.endsWith('fetch/')) : above(i) },
}));
forbidden.push({
  name: 'fetch-not-oracle',
  comment:
    'fetch/ hands events to delivery/ and knows only its RestartOracle interface, not the Fluent Bit implementation',
  severity: 'error',
  from: { path: `${C}fetch/` },
  to: { path: `${C}oracle/` },
});

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'no import circle', severity: 'error', from: {}, to: { circular: true } },
    ...forbidden,
    {
      name: 'delivery-through-its-index',
      comment: 'the delivery core is one module: the layers above use delivery/index.ts, not its parts',
      severity: 'error',
      from: { path: '^input/', pathNot: `${C}delivery/` },
      to: { path: `${C}delivery/`, pathNot: `${C}delivery/index[.]ts$` },
    },
    {
      name: 'oracle-through-its-index',
      comment: 'the restart oracle is one optional component: the engine uses oracle/index.ts, not its parts',
      severity: 'error',
      from: { path: '^input/', pathNot: `${C}oracle/` },
      to: { path: `${C}oracle/`, pathNot: `${C}oracle/index[.]ts$` },
    },
    {
      name: 'clients-below-collector',
      comment: 'the DI and forward clients know nothing of the collector, of each other, or of the process',
      severity: 'error',
      from: { path: '^input/(di|forward)/' },
      to: {
        path: '^input/(collector|simulator|demo|config|wasm)/|^input/(cli|config|demo|metrics|metrics-server)[.]ts$',
      },
    },
    {
      name: 'di-forward-apart',
      comment: 'the DI client and the forward client are independent',
      severity: 'error',
      from: { path: '^input/di/' },
      to: { path: '^input/forward/' },
    },
    {
      name: 'forward-di-apart',
      comment: 'the DI client and the forward client are independent',
      severity: 'error',
      from: { path: '^input/forward/' },
      to: { path: '^input/di/' },
    },
    {
      name: 'collector-below-process',
      comment: 'the collector is driven by the process (cli, config, metrics, demo), never the other way',
      severity: 'error',
      from: { path: '^input/collector/' },
      to: {
        path: [
          '^input/(simulator|demo|config|wasm)/',
          '^input/(cli|config|demo|metrics|metrics-server|fluent-bit-command)[.]ts$',
        ],
      },
    },
    {
      name: 'foundations-below-all',
      comment: 'the foundations in input/*.ts import no folder of input/',
      severity: 'error',
      from: { path: '^input/(types|errors|clock|backoff|duration|shard|scrub|shell|log|argv|package-info)[.]ts$' },
      to: { path: '^input/[^/]+/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
    // A .js specifier names the .ts source (NodeNext).
    moduleSystems: ['es6'],
  },
};
