export * from './decide.js';
export * from './evacuation-plan.js';
export * from './geo-distance.js';
export * from './ip.js';
export * from './model.js';
export * from './region-health.js';
export * from './spill-plan.js';
export * from './subnet-hash.js';
