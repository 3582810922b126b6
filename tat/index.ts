// The TAT API as types and rules. Pure: workflows import this entry point. Node-only helpers
// (signing, the SDK client factory) are in ./node/index.ts.

export * from './errors.js';
export * from './error-codes.js';
export * from './ids.js';
export * from './limits.js';
export * from './params.js';
export * from './status.js';
export * from './validate.js';
export * from './schemas/common.js';
export * from './schemas/requests.js';
export * from './schemas/types.js';
export * from './time.js';
