export {
  compareSnapshots,
  type SnapshotJson,
  snapshotFromJson,
  snapshotJsonSchema,
  snapshotToJson,
} from './codec.js';
export {
  ControlSnapshotSource,
  type ControlSourceOptions,
  type ControlSourceStatus,
} from './control-source.js';
export { FileSnapshotSource, type FileSourceOptions } from './file-source.js';
export { type EdgeReport, edgeReportSchema, parseEdgeReport } from './report.js';
export { type Reporter, type ReporterOptions, startReporter } from './reporter.js';
export type { SnapshotSource } from './source.js';
export { mergeSync, registerSyncMetrics, type SnapshotSync, type SyncStatus } from './sync.js';
