// The built-in object store's state: bucket directories under `<data>/cos/`, and the signing
// secret (`<data>/cos.key`, made on first start) from which every credential it hands out is
// derived. Nothing about credentials is stored: a temporary credential's token carries its scope
// and expiry under a MAC, and its secret key is a MAC of the token; a GET URL is signed with a
// key derived per bucket. OutputUrls therefore stay valid across restarts of tatd.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { cosAuthorization, cosKeyPath } from '../../tat/node/cos.js';
import type { ServerConfig } from '../config.js';
import { privateDir, privateFile } from '../store/private.js';

/** What a temporary credential allows: one PUT of one key in one bucket, for one task. */
export interface CredentialScope {
  taskId: string;
  bucket: string;
  key: string;
}

export interface IssuedCredential {
  TmpSecretId: string;
  TmpSecretKey: string;
  Token: string;
  /** Unix seconds. */
  ExpireTime: number;
  /** ISO 8601. */
  Expiration: string;
}

export type OpenedToken =
  | { ok: true; scope: CredentialScope; secretId: string; secretKey: string }
  | { ok: false; why: 'invalid' | 'expired' };

/** The access key id of tatd's own pre-signed GET URLs (OutputUrl). */
export const OUTPUT_URL_AK = 'AKIDtatdoutputurl';

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export class ObjectStore {
  readonly root: string;
  /** Bodies being received; renamed into their bucket once complete. */
  readonly uploads: string;
  private readonly secret: Buffer;

  constructor(
    dataDir: string,
    readonly config: ServerConfig['cos'],
  ) {
    this.root = join(dataDir, 'cos');
    // Bucket names cannot start with ".", so this never clashes with a bucket.
    this.uploads = join(this.root, '.uploads');
    // Owner-only, as the rest of --data: objects are task output.
    privateDir(this.root);
    privateDir(this.uploads);
    for (const b of config.buckets) privateDir(this.bucketDir(b.name));
    this.secret = loadSecret(join(dataDir, 'cos.key'));
  }

  isBucket(name: string): boolean {
    return this.config.buckets.some((b) => b.name === name);
  }

  bucketDir(name: string): string {
    return join(this.root, name);
  }

  /** Where `key` of `bucket` lives; undefined for a key that would leave the bucket. */
  objectPath(bucket: string, key: string): string | undefined {
    const dir = this.bucketDir(bucket);
    const p = resolve(dir, key);
    return p.startsWith(dir + sep) ? p : undefined;
  }

  /** Removes an object's file (retention); a missing one is already gone. */
  async remove(bucket: string, key: string): Promise<void> {
    const path = this.objectPath(bucket, key);
    if (path) await unlink(path).catch(() => undefined);
  }

  private mac(purpose: string, text: string): Buffer {
    return createHmac('sha256', this.secret).update(`${purpose}\n${text}`, 'utf8').digest();
  }

  issueCredential(scope: CredentialScope, nowMs: number): IssuedCredential {
    const exp = Math.floor((nowMs + this.config.credentialTtlMs) / 1000);
    const payload = b64url(JSON.stringify({ t: scope.taskId, b: scope.bucket, k: scope.key, e: exp }));
    const token = `${payload}.${b64url(this.mac('token', payload))}`;
    const { secretId, secretKey } = this.keysOf(token);
    return {
      TmpSecretId: secretId,
      TmpSecretKey: secretKey,
      Token: token,
      ExpireTime: exp,
      Expiration: new Date(exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
  }

  private keysOf(token: string): { secretId: string; secretKey: string } {
    return {
      secretId: `AKIDtatd${this.mac('ak', token).toString('hex').slice(0, 28)}`,
      secretKey: this.mac('sk', token).toString('hex').slice(0, 40),
    };
  }

  /** Checks a security token's MAC and expiry; gives its scope and the keys it goes with. */
  openToken(token: string, nowMs: number): OpenedToken {
    const [payload, mac, ...rest] = token.split('.');
    if (!payload || !mac || rest.length > 0) return { ok: false, why: 'invalid' };
    const expected = this.mac('token', payload);
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return { ok: false, why: 'invalid' };
    let p: { t?: unknown; b?: unknown; k?: unknown; e?: unknown };
    try {
      p = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof p;
    } catch {
      return { ok: false, why: 'invalid' };
    }
    if (
      typeof p.t !== 'string' ||
      typeof p.b !== 'string' ||
      typeof p.k !== 'string' ||
      typeof p.e !== 'number'
    )
      return { ok: false, why: 'invalid' };
    if (p.e * 1000 < nowMs) return { ok: false, why: 'expired' };
    return { ok: true, scope: { taskId: p.t, bucket: p.b, key: p.k }, ...this.keysOf(token) };
  }

  /** The secret key of the pre-signed GET URLs of one bucket. */
  readKey(bucket: string): string {
    return this.mac('get', bucket).toString('hex').slice(0, 40);
  }

  /**
   * A pre-signed GET URL of `key` under `bucketUrl` (the URL the caller gave, so the host is the
   * one they reach tatd by), valid for `cos.outputUrlTtlMs`: COS's own query-string form.
   */
  presignGet(bucketUrl: string, bucket: string, key: string, nowMs: number): string {
    const start = Math.floor(nowMs / 1000);
    const keyTime = `${start};${start + Math.ceil(this.config.outputUrlTtlMs / 1000)}`;
    const auth = cosAuthorization(OUTPUT_URL_AK, {
      secretKey: this.readKey(bucket),
      method: 'GET',
      pathname: `/${key}`,
      keyTime,
    });
    const query = auth.replaceAll(';', '%3B');
    return `${bucketUrl.replace(/\/+$/, '')}${cosKeyPath(key)}?${query}`;
  }
}

function loadSecret(file: string): Buffer {
  privateFile(file);
  const s = readFileSync(file);
  if (s.length >= 32) return s;
  const fresh = randomBytes(32);
  writeFileSync(file, fresh, { mode: 0o600 });
  return fresh;
}
