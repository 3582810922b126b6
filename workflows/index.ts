// The built-in runbooks: the workflow types a worker registers (the bundle's entry point).

export { rollingCommand } from './rolling-command.js';
export { patchFleet } from './patch-fleet.js';
export { rollingAppUpdate } from './rolling-app-update.js';
