// rollingAppUpdate: read each target's current version, deploy version X, check health; on breach
// or abort roll every changed target back to the version it had.

import { defineRunbook } from './engine/define.js';
import type { CommandSpec, HealthCheck } from './engine/types.js';

export interface RollingAppUpdateParams {
  /** The version to deploy. */
  version: string;
  /** Prints the target's current version on standard output. */
  probe: CommandSpec;
  /** Deploys the version given in the custom parameter `{{version}}`. */
  deploy: CommandSpec;
  healthCheck?: HealthCheck;
  /** Goes back to `{{version}}` (the one the probe read). Default: the deploy command. */
  rollback?: CommandSpec;
}

export const rollingAppUpdate = defineRunbook<RollingAppUpdateParams>((p) => ({
  probe: p.probe,
  alreadyDone: (current) => current === p.version,
  steps: [{ kind: 'command', name: 'deploy', command: p.deploy, parameters: { version: p.version } }],
  ...(p.healthCheck ? { healthCheck: p.healthCheck } : {}),
  rollback: { command: p.rollback ?? p.deploy, versionParameter: 'version' },
}));
