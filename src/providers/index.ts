export { desiredRecordSets, regionWeights, sharesOf } from './desired.js';
export { diffRecordSets, formatDiff } from './diff.js';
export { BuiltinProvider } from './memory.js';
export * from './model.js';
export { PowerDnsProvider } from './powerdns.js';
export { createProvider, PROVIDERS, type ProviderInfo, type ProviderSettings } from './registry.js';
export { Rfc2136Provider } from './rfc2136.js';
export { Route53Provider } from './route53.js';
export { type SyncResult, syncOnce, watchSync } from './sync.js';
