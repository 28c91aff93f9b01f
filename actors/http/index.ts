/** The public face of the HTTP area: the server, the source interface it serves, and helpers a master wires in. */
export { startOperatorHttp, defaultUiDir } from './server.js';
export type { FileReadRequest, MasterMetrics, MasterRole, OperatorHttpOptions, OperatorHttpServer, OperatorSource } from './types.js';
export { SnapshotEventFeed, diffStates, nextPollDelay, type SnapshotEventFeedOptions } from './snapshot-feed.js';
export { natsFileReader } from './nats-files.js';
export { summarize, ResourceAmounts, type ClusterSummary, type Quantities } from './summary.js';
export { METRIC_NAMES } from './metrics.js';
export * from './errors.js';
export { masterOperatorSource, type MasterSourceParts } from './source.js';
