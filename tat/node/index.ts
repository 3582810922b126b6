// Node-only part of tat/: signing and the official SDK client factory. Workflows never import it.
export * from './signing.js';
export * from './client.js';
