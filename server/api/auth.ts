// Who is calling: the key pair named by the request, checked by its TC3 or v1 signature within
// the allowed clock skew (docs/tat-api-reference.md, "Signing"). Answers the AuthFailure.* codes.

import { TatError } from '../../tat/errors.js';
import {
  headerValue,
  parseTc3Authorization,
  verifyTc3,
  verifyV1,
  type Tc3Request,
} from '../../tat/node/signing.js';
import { accountKey, type Account } from '../config.js';

export class Keyring {
  private readonly byId = new Map<string, Account>();

  constructor(accounts: Account[]) {
    for (const a of accounts) this.byId.set(a.secretId, a);
  }

  lookup(secretId: string): Account {
    const a = this.byId.get(secretId);
    if (!a)
      throw new TatError(
        'AuthFailure.SecretIdNotFound',
        `The SecretId "${secretId}" is not known to this server.`,
      );
    return a;
  }
}

function checkTimestamp(raw: string | undefined, nowMs: number, windowMs: number, name: string): number {
  if (raw === undefined || raw === '')
    throw new TatError('MissingParameter', `The request has no ${name}; signed requests must carry one.`);
  if (!/^\d+$/.test(raw)) throw new TatError('InvalidParameter', `${name} must be a Unix time in seconds.`);
  const ts = Number(raw);
  if (Math.abs(ts * 1000 - nowMs) > windowMs)
    throw new TatError(
      'AuthFailure.SignatureExpire',
      `The request timestamp ${ts} is more than ${Math.round(windowMs / 1000)} s away from the server time ${Math.floor(nowMs / 1000)}; check the client's clock.`,
    );
  return ts;
}

/** Who signed a request, and what the replay guard needs to know of it. */
export interface Authenticated {
  /** The account key. */
  account: string;
  secretId: string;
  signature: string;
  /** Until when the signature is accepted (its timestamp plus the window), epoch ms. */
  validUntil: number;
}

/** Verifies a TC3-signed request. */
export function authenticateTc3(
  keys: Keyring,
  req: Tc3Request,
  authorization: string,
  nowMs: number,
  windowMs: number,
): Authenticated {
  const auth = parseTc3Authorization(authorization);
  const account = keys.lookup(auth.secretId);
  const ts = checkTimestamp(headerValue(req.headers, 'x-tc-timestamp'), nowMs, windowMs, 'X-TC-Timestamp');
  verifyTc3(req, auth, account.secretKey, ts);
  return {
    account: accountKey(account),
    secretId: account.secretId,
    signature: auth.signature,
    validUntil: ts * 1000 + windowMs,
  };
}

/** Verifies a v1-signed request (parameters as sent, decoded). */
export function authenticateV1(
  keys: Keyring,
  method: string,
  host: string,
  params: Record<string, string>,
  nowMs: number,
  windowMs: number,
): Authenticated {
  if (!params.SecretId)
    throw new TatError('AuthFailure.InvalidAuthorization', 'The request has no SecretId.');
  const account = keys.lookup(params.SecretId);
  const ts = checkTimestamp(params.Timestamp, nowMs, windowMs, 'Timestamp');
  if (!params.Nonce)
    throw new TatError('MissingParameter', 'A v1-signed request needs Nonce, a random positive integer.');
  if (!/^\d{1,20}$/.test(params.Nonce))
    throw new TatError('InvalidParameter', 'Nonce must be a positive integer.');
  verifyV1(method, host, '/', params, account.secretKey);
  return {
    account: accountKey(account),
    secretId: account.secretId,
    signature: params.Signature ?? '',
    validUntil: ts * 1000 + windowMs,
  };
}
