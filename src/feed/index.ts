export { type SnapshotJson, snapshotFromJson, snapshotJsonSchema, snapshotToJson } from './codec.js';
export { FileSnapshotSource, type FileSourceOptions } from './file-source.js';
export type { SnapshotSource } from './source.js';
