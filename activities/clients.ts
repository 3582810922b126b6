// One official-SDK client per region, made on first use and kept for the worker's lifetime.

import { createTatClient, type TatClient } from '../tat/node/client.js';

/** Where the TAT API is and the key pair the worker calls it with. */
export interface ActivitiesConfig {
  secretId: string;
  secretKey: string;
  /** The session token of a temporary key (STS). */
  token?: string;
  /** tatd's url (`http://127.0.0.1:9000`); omit for Tencent Cloud. */
  endpoint?: string;
}

export type ClientFor = (region: string) => TatClient;

/** Seconds per API request: under the engine's 15 s heartbeat timeout, so a hung call fails first. */
const REQUEST_TIMEOUT_SECONDS = 10;

export function clientsFor(config: ActivitiesConfig): ClientFor {
  const clients = new Map<string, TatClient>();
  return (region) => {
    let c = clients.get(region);
    if (!c) {
      c = createTatClient({
        secretId: config.secretId,
        secretKey: config.secretKey,
        ...(config.token ? { token: config.token } : {}),
        region,
        timeoutSeconds: REQUEST_TIMEOUT_SECONDS,
        ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      });
      clients.set(region, c);
    }
    return c;
  };
}
