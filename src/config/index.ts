export { type ConfigProblem, formatProblem, loadConfig, parseConfigText } from './load.js';
export * from './schema/index.js';
export { type ServiceAnswers, serviceAnswers } from './service-answers.js';
export { policyFromConfig, type SnapshotOverrides, snapshotFromConfig } from './snapshot.js';
