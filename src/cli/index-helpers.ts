export * from './options.js';
export * from './output.js';
export * from './serve.js';
