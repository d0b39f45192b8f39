export * from './decide.js';
export * from './geo-distance.js';
export * from './ip.js';
export * from './model.js';
export * from './spill-plan.js';
export * from './subnet-hash.js';
