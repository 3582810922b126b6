// Request signing of API 3.0 (docs/tat-api-reference.md, "Signing"): TC3-HMAC-SHA256 and the legacy
// v1 signature (HmacSHA1 / HmacSHA256). Both directions: signing (tests, tools) and verifying
// (tatd), with the interop quirks of docs/tat-api-reference.md, "Signing" (service from the header,
// host with and without port, raw body).

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { TatError } from '../errors.js';

const sha256hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

export interface Tc3Input {
  secretKey: string;
  service: string;
  /** The host value as signed (the SDKs differ on the port). */
  host: string;
  timestamp: number;
  method: string;
  /** Raw query string without `?` (GET), '' for POST. */
  query: string;
  contentType: string;
  /** Raw body bytes, or the literal UNSIGNED-PAYLOAD marker. */
  payload: Buffer | string;
  unsignedPayload?: boolean;
}

export function utcDate(timestamp: number): string {
  return new Date(timestamp * 1000).toISOString().slice(0, 10);
}

/** The TC3 signature (lowercase hex) for one request. */
export function tc3Signature(i: Tc3Input): string {
  const payloadHash = sha256hex(i.unsignedPayload ? UNSIGNED_PAYLOAD : i.payload);
  const canonicalRequest = [
    i.method.toUpperCase(),
    '/',
    i.query,
    `content-type:${i.contentType}\nhost:${i.host}\n`,
    'content-type;host',
    payloadHash,
  ].join('\n');
  const date = utcDate(i.timestamp);
  const scope = `${date}/${i.service}/tc3_request`;
  const stringToSign = ['TC3-HMAC-SHA256', String(i.timestamp), scope, sha256hex(canonicalRequest)].join(
    '\n',
  );
  const kDate = hmac('TC3' + i.secretKey, date);
  const kService = hmac(kDate, i.service);
  const kSigning = hmac(kService, 'tc3_request');
  return createHmac('sha256', kSigning).update(stringToSign).digest('hex');
}

export function tc3Authorization(secretId: string, i: Tc3Input): string {
  const scope = `${utcDate(i.timestamp)}/${i.service}/tc3_request`;
  return `TC3-HMAC-SHA256 Credential=${secretId}/${scope}, SignedHeaders=content-type;host, Signature=${tc3Signature(i)}`;
}

export interface ParsedTc3Authorization {
  secretId: string;
  date: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const AUTH =
  /^TC3-HMAC-SHA256\s+Credential=([^/\s,]+)\/(\d{4}-\d{2}-\d{2})\/([^/\s,]+)\/tc3_request\s*,\s*SignedHeaders=([a-z0-9;-]+)\s*,\s*Signature=([0-9a-f]{64})$/;

export function parseTc3Authorization(header: string): ParsedTc3Authorization {
  const m = AUTH.exec(header.trim());
  if (!m)
    throw new TatError(
      'AuthFailure.InvalidAuthorization',
      'The Authorization header is malformed; expected "TC3-HMAC-SHA256 Credential=<SecretId>/<date>/<service>/tc3_request, SignedHeaders=..., Signature=<hex>".',
    );
  return {
    secretId: m[1]!,
    date: m[2]!,
    service: m[3]!,
    signedHeaders: m[4]!.split(';'),
    signature: m[5]!,
  };
}

function hostCandidates(host: string): string[] {
  const out = [host];
  const withoutPort = host.replace(/:\d+$/, '');
  if (withoutPort !== host) out.push(withoutPort);
  return out;
}

function equalHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface Tc3Request {
  method: string;
  query: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** The first value of a (lower-case) header, or undefined. */
export function headerValue(h: Tc3Request['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function header(h: Tc3Request['headers'], name: string): string {
  return headerValue(h, name) ?? '';
}

/**
 * Verifies a TC3 request against `secretKey`. Canonical headers are rebuilt from the received
 * ones in SignedHeaders order; the host is tried as received and without its port.
 */
export function verifyTc3(
  req: Tc3Request,
  auth: ParsedTc3Authorization,
  secretKey: string,
  timestamp: number,
): void {
  if (auth.date !== utcDate(timestamp))
    throw new TatError(
      'AuthFailure.SignatureFailure',
      `The credential date ${auth.date} is not the UTC date of X-TC-Timestamp (${utcDate(timestamp)}).`,
    );
  const unsigned = header(req.headers, 'x-tc-content-sha256') === UNSIGNED_PAYLOAD;
  const payloadHash = sha256hex(unsigned ? UNSIGNED_PAYLOAD : req.body);
  const host = header(req.headers, 'host');
  const date = auth.date;
  const scope = `${date}/${auth.service}/tc3_request`;
  const kSigning = hmac(hmac(hmac('TC3' + secretKey, date), auth.service), 'tc3_request');
  for (const h of hostCandidates(host)) {
    const canonicalHeaders = auth.signedHeaders
      .map((name) => `${name}:${name === 'host' ? h : header(req.headers, name).trim()}\n`)
      .join('');
    const canonicalRequest = [
      req.method.toUpperCase(),
      '/',
      req.query,
      canonicalHeaders,
      auth.signedHeaders.join(';'),
      payloadHash,
    ].join('\n');
    const stringToSign = ['TC3-HMAC-SHA256', String(timestamp), scope, sha256hex(canonicalRequest)].join(
      '\n',
    );
    const expected = createHmac('sha256', kSigning).update(stringToSign).digest('hex');
    if (equalHex(expected, auth.signature)) return;
  }
  throw new TatError(
    'AuthFailure.SignatureFailure',
    'The request signature does not match; check the SecretKey and that the request was not changed after signing.',
  );
}

// ---- legacy v1 ----

export type V1Method = 'HmacSHA1' | 'HmacSHA256';

export function v1StringToSign(
  method: string,
  host: string,
  path: string,
  params: Record<string, string>,
): string {
  const joined = Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
  return `${method.toUpperCase()}${host}${path}?${joined}`;
}

export function v1Signature(secretKey: string, algorithm: V1Method, stringToSign: string): string {
  return createHmac(algorithm === 'HmacSHA1' ? 'sha1' : 'sha256', secretKey)
    .update(stringToSign)
    .digest('base64');
}

export function verifyV1(
  method: string,
  host: string,
  path: string,
  params: Record<string, string>,
  secretKey: string,
): void {
  const algorithm = (params.SignatureMethod ?? 'HmacSHA1') as V1Method;
  if (algorithm !== 'HmacSHA1' && algorithm !== 'HmacSHA256')
    throw new TatError(
      'AuthFailure.SignatureFailure',
      `SignatureMethod "${String(algorithm)}" is not supported; use HmacSHA1 or HmacSHA256.`,
    );
  const given = params.Signature ?? '';
  for (const h of hostCandidates(host)) {
    const expected = v1Signature(secretKey, algorithm, v1StringToSign(method, h, path, params));
    if (equalHex(expected, given)) return;
  }
  throw new TatError(
    'AuthFailure.SignatureFailure',
    'The request signature does not match; check the SecretKey and that the request was not changed after signing.',
  );
}
