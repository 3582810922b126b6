// One official-SDK client per region, made on first use and kept for the worker's lifetime, each
// signing with the worker's credentials (a key pair, temporary credentials, or a credentials file
// read again when it changes: credentials.ts) and sending through the process's request-rate lanes
// (rate-limit.ts, applied by tatCall in errors.ts).

import { createTatClient, type TatClient } from '../tat/node/client.js';
import { fileCredentials, staticCredentials, type Credential, type CredentialSource } from './credentials.js';
import { DEFAULT_REQUESTS_PER_SECOND, processLimiter, type Lane } from './rate-limit.js';

/** Where the TAT API is, and how the worker signs its requests. */
export interface ActivitiesConfig {
  /** A long-term key pair, or temporary credentials with `token`. */
  secretId?: string;
  secretKey?: string;
  /** The STS session token of temporary credentials (env TENCENTCLOUD_SESSION_TOKEN). */
  token?: string;
  /**
   * A JSON file with the credentials, read again whenever it changes (temporary credentials that
   * something renews): `{"secretId", "secretKey", "token"}` or STS's `{"TmpSecretId",
   * "TmpSecretKey", "Token"}`. Takes precedence over the key pair.
   */
  credentialsFile?: string;
  /** Names the account for the rate limiter when the credentials rotate (default: the key or file). */
  account?: string;
  /** tatd's url (`http://127.0.0.1:9000`); omit for Tencent Cloud. */
  endpoint?: string;
  /** Requests per second per action and region (TAT's limit: 20). */
  requestsPerSecond?: number;
}

export type ClientFor = (region: string) => TatClient;

/** Seconds per API request: under the engine's 15 s heartbeat timeout, so a hung call fails first. */
const REQUEST_TIMEOUT_SECONDS = 10;

export function credentialSource(config: ActivitiesConfig): CredentialSource {
  if (config.credentialsFile) return fileCredentials(config.credentialsFile, config.account);
  if (!config.secretId || !config.secretKey)
    throw new Error(
      'no TAT credentials: give a key pair (TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, ' +
        'with TENCENTCLOUD_SESSION_TOKEN for temporary ones) or a credentials file',
    );
  const c: Credential = { secretId: config.secretId, secretKey: config.secretKey };
  if (config.token) c.token = config.token;
  const s = staticCredentials(c);
  return config.account ? { account: config.account, getCredential: s.getCredential } : s;
}

/** How each client's requests are paced: its lane for an action. */
const lanesOf = new WeakMap<TatClient, (action: string) => Lane>();

/** The rate lane of `action` for this client (none for clients not made by `clientsFor`). */
export function laneOf(tat: TatClient, action: string): Lane | undefined {
  return lanesOf.get(tat)?.(action);
}

export function clientsFor(config: ActivitiesConfig): ClientFor {
  const credential = credentialSource(config);
  const limiter = processLimiter(config.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND);
  const clients = new Map<string, TatClient>();
  return (region) => {
    let c = clients.get(region);
    if (!c) {
      c = createTatClient({
        credential,
        region,
        timeoutSeconds: REQUEST_TIMEOUT_SECONDS,
        ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      });
      lanesOf.set(c, (action) => limiter.lane(credential.account, region, action));
      clients.set(region, c);
    }
    return c;
  };
}
