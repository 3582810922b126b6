// COS XML API, the part task output uploads use (docs/agent-protocol-reference.md, "Output"; the
// reference agent's `cos_adapter.rs`): object keys, and request signatures ("q-sign-algorithm=sha1",
// COS v5) as tatflow's agent sends them and tatd's built-in object store checks them. The steps of
// COS's "request signature":
//   KeyTime    = "<start>;<end>" (unix seconds)
//   SignKey    = hex HMAC-SHA1(SecretKey, KeyTime)
//   HttpString = lower(method) \n pathname \n HttpParameters \n HttpHeaders \n
//   StringToSign = "sha1" \n KeyTime \n hex SHA1(HttpString) \n
//   Signature  = hex HMAC-SHA1(SignKey, StringToSign)
// The pathname is the object key with a leading `/`, not percent-encoded. Header and parameter
// names are percent-encoded and lower-cased, values percent-encoded, pairs sorted by name.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Percent-encodes everything but `A-Z a-z 0-9 - _ . ~` (COS's table; Rust `urlencoding::encode`). */
export function cosEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `/` + key with each segment percent-encoded: the key as a URL path. */
export function cosKeyPath(key: string): string {
  return `/${key.split('/').map(cosEncode).join('/')}`;
}

/**
 * The key of a task's full output, as the reference agent builds it: the non-empty parts of
 * [prefix without one trailing `/`, invocation id, `<task id>.log`], joined by `/`.
 */
export function outputObjectKey(prefix: string, invocationId: string, taskId: string): string {
  const p = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return [p, invocationId, `${taskId}.log`].filter((s) => s.length > 0).join('/');
}

const hmacSha1 = (key: string, text: string) => createHmac('sha1', key).update(text, 'utf8').digest('hex');

function canonical(map: Record<string, string>): { names: string; text: string } {
  const pairs = Object.entries(map)
    .map(([k, v]) => [cosEncode(k).toLowerCase(), cosEncode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { names: pairs.map((p) => p[0]).join(';'), text: pairs.map(([k, v]) => `${k}=${v}`).join('&') };
}

export interface CosSignInput {
  secretKey: string;
  method: string;
  /** `/` + object key, not percent-encoded. */
  pathname: string;
  /** `<start>;<end>` in unix seconds. */
  keyTime: string;
  /** The signed headers, by name as sent. */
  headers?: Record<string, string>;
  /** The signed query parameters. */
  params?: Record<string, string>;
}

export function cosSignature(i: CosSignInput): string {
  const signKey = hmacSha1(i.secretKey, i.keyTime);
  const params = canonical(i.params ?? {});
  const headers = canonical(i.headers ?? {});
  const httpString = `${i.method.toLowerCase()}\n${i.pathname}\n${params.text}\n${headers.text}\n`;
  const stringToSign = `sha1\n${i.keyTime}\n${createHash('sha1').update(httpString, 'utf8').digest('hex')}\n`;
  return hmacSha1(signKey, stringToSign);
}

/** The `Authorization` value (also the query string of a pre-signed URL, once encoded). */
export function cosAuthorization(secretId: string, i: CosSignInput): string {
  return [
    'q-sign-algorithm=sha1',
    `q-ak=${secretId}`,
    `q-sign-time=${i.keyTime}`,
    `q-key-time=${i.keyTime}`,
    `q-header-list=${canonical(i.headers ?? {}).names}`,
    `q-url-param-list=${canonical(i.params ?? {}).names}`,
    `q-signature=${cosSignature(i)}`,
  ].join('&');
}

export interface CosAuth {
  algorithm: string;
  ak: string;
  signTime: string;
  keyTime: string;
  /** Lower-case names, in the order given. */
  headerList: string[];
  paramList: string[];
  signature: string;
}

/** The `q-*` fields of an Authorization header or a pre-signed URL's query; undefined when absent. */
export function parseCosAuth(fields: URLSearchParams): CosAuth | undefined {
  const get = (k: string) => fields.get(k) ?? undefined;
  const algorithm = get('q-sign-algorithm');
  const ak = get('q-ak');
  const signature = get('q-signature');
  const signTime = get('q-sign-time');
  if (algorithm === undefined || ak === undefined || signature === undefined || signTime === undefined)
    return undefined;
  const list = (k: string) =>
    (get(k) ?? '')
      .split(';')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
  return {
    algorithm,
    ak,
    signTime,
    keyTime: get('q-key-time') ?? signTime,
    headerList: list('q-header-list'),
    paramList: list('q-url-param-list'),
    signature,
  };
}

/** `<start>;<end>` as numbers, or undefined when malformed. */
export function parseKeyTime(keyTime: string): { start: number; end: number } | undefined {
  const m = /^(\d{1,12});(\d{1,12})$/.exec(keyTime);
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]) };
}

export interface CosRequestToCheck {
  method: string;
  /** `/` + object key, decoded. */
  pathname: string;
  /** Lower-case header names (node's `IncomingHttpHeaders`). */
  headers: Record<string, string | string[] | undefined>;
  query: URLSearchParams;
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/** Recomputes the signature of `auth` over the request with `secretKey`; compares in constant time. */
export function cosSignatureMatches(req: CosRequestToCheck, auth: CosAuth, secretKey: string): boolean {
  if (auth.algorithm !== 'sha1' || auth.signTime !== auth.keyTime) return false;
  const headers: Record<string, string> = {};
  for (const name of auth.headerList) {
    const v = req.headers[decodeName(name)];
    if (v === undefined) return false;
    headers[name] = Array.isArray(v) ? v.join(',') : v;
  }
  const params: Record<string, string> = {};
  for (const name of auth.paramList) params[name] = req.query.get(decodeName(name)) ?? '';
  const expected = cosSignature({
    secretKey,
    method: req.method,
    pathname: req.pathname,
    keyTime: auth.keyTime,
    headers,
    params,
  });
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(auth.signature.toLowerCase(), 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
