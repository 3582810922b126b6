// The API client factory over the official Node SDK (tencentcloud-sdk-nodejs), pointed at tatd or
// at Tencent Cloud. The endpoint override follows docs/tat-api-reference.md,
// "Endpoints and proxies".

import https from 'node:https';
import tatSdk from 'tencentcloud-sdk-nodejs/tencentcloud/services/tat/index.js';

export type TatClient = InstanceType<typeof tatSdk.tat.v20201028.Client>;

/** What the SDK signs with: a key pair (with a session token for temporary credentials). */
export interface TatCredential {
  secretId: string;
  secretKey: string;
  token?: string;
}

export interface TatClientOptions {
  secretId?: string;
  secretKey?: string;
  /** The STS session token of temporary credentials (sent as X-TC-Token / Token). */
  token?: string;
  /** Instead of the fields above: credentials asked for at every request (renewed ones are used at once). */
  credential?: { getCredential(): Promise<TatCredential> };
  region: string;
  /** `http://127.0.0.1:9000` for tatd; omit for Tencent Cloud (`https://tat.tencentcloudapi.com`). */
  endpoint?: string;
  /** Seconds per request (SDK default 60). */
  timeoutSeconds?: number;
  signMethod?: 'TC3-HMAC-SHA256' | 'HmacSHA256' | 'HmacSHA1';
  /** POST (default: a JSON body) or GET (parameters flattened into the query string). */
  reqMethod?: 'POST' | 'GET';
  language?: 'zh-CN' | 'en-US';
  /**
   * CA certificates (PEM) to trust for an https:// endpoint instead of the system's (a tatd with
   * its own CA). A process can also trust one with NODE_EXTRA_CA_CERTS.
   */
  ca?: string | Buffer;
}

export function createTatClient(o: TatClientOptions): TatClient {
  let protocol = 'https://';
  let host: string | undefined;
  if (o.endpoint) {
    const u = new URL(o.endpoint);
    protocol = `${u.protocol}//`;
    host = u.host;
  }
  const credential =
    o.credential ??
    (o.token
      ? { secretId: o.secretId, secretKey: o.secretKey, token: o.token }
      : { secretId: o.secretId, secretKey: o.secretKey });
  return new tatSdk.tat.v20201028.Client({
    credential,
    region: o.region,
    profile: {
      signMethod: o.signMethod ?? 'TC3-HMAC-SHA256',
      ...(o.language ? { language: o.language } : {}),
      httpProfile: {
        protocol,
        ...(host ? { endpoint: host } : {}),
        reqTimeout: o.timeoutSeconds ?? 60,
        ...(o.reqMethod ? { reqMethod: o.reqMethod } : {}),
        ...(o.ca ? { agent: new https.Agent({ ca: o.ca, keepAlive: true }) } : {}),
      },
    },
  });
}
