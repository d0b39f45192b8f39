// The RPO check is pure and lives in core (control's pre-check uses it too).
export { checkRpo, type RpoCheck } from '../core/rpo.js';
export { createReplicatedCache, INTERNAL_PREFIX, type ReplicatedCache, type SetOptions } from './cache.js';
export { converged, diffRegions, type RegionDiff } from './converge.js';
export { decodeBatch, type EventBatch, encodeBatch, type ReplicationEvent } from './event.js';
export { compareHlc, HybridClock } from './hlc.js';
export { MemoryStore, type MemoryStoreOptions, type StoredRecord } from './memory-store.js';
export { createMemoryTransport, type MemoryTransport } from './memory-transport.js';
export { replicationMetrics } from './metrics.js';
export { connectNatsTransport, type NatsTransport, type NatsTransportOptions } from './nats-transport.js';
export { WRITE_LUA } from './outbox-script.js';
export { canaryKey, type LagProbe, startLagProbe } from './probe.js';
export {
  type RegionLagProbe,
  type RegionReplication,
  type ReplicationCredentials,
  startRegionLagProbe,
  startRegionReplication,
} from './region.js';
export { type Relay, type RelayStats, startRelay } from './relay.js';
export { type Shipper, type ShipperOptions, type ShipperStats, startShipper } from './shipper.js';
export {
  type ApplyOutcome,
  type ApplyResult,
  type CacheStore,
  type OutboxEntry,
  RegionStore,
} from './store.js';
export type { ReplicationTransport, TransportSubscription } from './transport.js';
