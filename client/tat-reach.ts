// A CLI command's calls to the TAT API, with an error that says what to do when the endpoint cannot
// be reached at all (nothing listens, a wrong host), as `run` and `status` say for Temporal, instead
// of the bare `connect ECONNREFUSED`. Errors the API answered (a TAT error code) pass unchanged.

import { errorCode } from '../activities/errors.js';
import { devEngine } from './settings.js';

export async function callTat<T>(endpoint: string | undefined, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (errorCode(e) !== undefined || !(e instanceof Error)) throw e;
    const where = endpoint ?? 'Tencent Cloud (tat.tencentcloudapi.com)';
    const hint =
      endpoint && endpoint === devEngine().tat?.endpoint
        ? 'is `tatflow dev` running in this directory? Start it with `tatflow dev`'
        : 'check --tat-endpoint (env TATFLOW_TAT_ENDPOINT), or start the dev system with `tatflow dev`';
    throw new Error(`cannot reach the TAT API at ${where}: ${e.message} (${hint})`, { cause: e });
  }
}
