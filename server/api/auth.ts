// Who is calling: the key pair named by the request, checked by its TC3 or v1 signature within
// the allowed clock skew (docs/tat-api-reference.md, "Signing"), and its session token when it
// sends one. Answers the AuthFailure.* codes.

import { timingSafeEqual } from 'node:crypto';
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

/**
 * The session token of temporary credentials (X-TC-Token, or Token in v1). tatd has no STS: it
 * checks a token only against the one configured with the key (`accounts[].token`). A token sent
 * with a long-term key, or another token than the key's, is refused (AuthFailure.TokenFailure),
 * never ignored.
 */
function checkToken(account: Account, token: string | undefined): void {
  const sent = token === '' ? undefined : token;
  if (account.token === undefined) {
    if (sent !== undefined)
      throw new TatError(
        'AuthFailure.TokenFailure',
        'The request carries a session token (X-TC-Token), but its SecretId is a long-term key on this ' +
          'server: tatd cannot check STS tokens. Send no token, or configure the key with its token.',
      );
    return;
  }
  const a = Buffer.from(sent ?? '', 'utf8');
  const b = Buffer.from(account.token, 'utf8');
  if (a.length !== b.length || !timingSafeEqual(a, b))
    throw new TatError(
      'AuthFailure.TokenFailure',
      sent === undefined
        ? 'This SecretId belongs to temporary credentials: the request must carry their session token (X-TC-Token).'
        : 'The session token (X-TC-Token) is not the one of these temporary credentials.',
    );
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
  checkToken(account, headerValue(req.headers, 'x-tc-token'));
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
  checkToken(account, params.Token);
  return {
    account: accountKey(account),
    secretId: account.secretId,
    signature: params.Signature ?? '',
    validUntil: ts * 1000 + windowMs,
  };
}
