export * from './options.js';
export * from './output.js';
