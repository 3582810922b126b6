// The credentials the worker signs TAT requests with: a long-term key pair, or temporary
// credentials (SecretId, SecretKey and a session token) as Tencent Cloud users with roles get them
// from STS. Temporary credentials expire, so they can come from a file that is read again whenever
// it changes (whoever renews them rewrites it, best by writing a new file and renaming it over the
// old one): the worker picks up new credentials at its next request, without a restart. The file
// holds either tatflow's shape `{"secretId", "secretKey", "token"}` or the `Credentials` object of
// STS AssumeRole / GetFederationToken (`{"TmpSecretId", "TmpSecretKey", "Token"}`).

import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';

export interface Credential {
  secretId: string;
  secretKey: string;
  /** The STS session token of temporary credentials. */
  token?: string;
}

/** What the official SDK client takes as a dynamic credential, and the account the key belongs to. */
export interface CredentialSource {
  getCredential(): Promise<Credential>;
  /** Names the account for the request-rate limiter: stable across renewals. */
  readonly account: string;
}

const Plain = z.object({
  secretId: z.string().min(1),
  secretKey: z.string().min(1),
  token: z.string().optional(),
});
const Sts = z.object({
  TmpSecretId: z.string().min(1),
  TmpSecretKey: z.string().min(1),
  Token: z.string().min(1),
});

/** The credentials a parsed file holds, in either shape; undefined when it holds neither. */
export function credentialsOf(json: unknown): Credential | undefined {
  const plain = Plain.safeParse(json);
  if (plain.success) {
    const { secretId, secretKey, token } = plain.data;
    return token ? { secretId, secretKey, token } : { secretId, secretKey };
  }
  const sts = Sts.safeParse(json);
  if (sts.success)
    return { secretId: sts.data.TmpSecretId, secretKey: sts.data.TmpSecretKey, token: sts.data.Token };
  return undefined;
}

export function parseCredentials(text: string, file: string): Credential {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`credentials file ${file} is not JSON: ${(e as Error).message}`);
  }
  const c = credentialsOf(json);
  if (c) return c;
  throw new Error(
    `credentials file ${file} holds neither {"secretId", "secretKey", "token"?} nor STS's ` +
      '{"TmpSecretId", "TmpSecretKey", "Token"}',
  );
}

export function staticCredentials(c: Credential): CredentialSource {
  const value = { ...c };
  return { account: c.secretId, getCredential: () => Promise.resolve(value) };
}

/**
 * Credentials read from `file`, again whenever its modification time or size changed. A file
 * that cannot be read or parsed at a change (caught mid-write) keeps the last good credentials
 * until it is whole again; with none yet, the request fails saying why.
 */
export function fileCredentials(file: string, account?: string): CredentialSource {
  let stamp = '';
  let current: Credential | undefined;
  let problem: Error | undefined;
  const read = (): Credential => {
    try {
      const st = statSync(file);
      const now = `${st.mtimeMs}:${st.size}:${st.ino}`;
      if (now !== stamp) {
        stamp = now;
        current = parseCredentials(readFileSync(file, 'utf8'), file);
        problem = undefined;
      }
    } catch (e) {
      problem = e instanceof Error ? e : new Error(String(e));
      stamp = '';
    }
    if (current) return current;
    throw new Error(`no TAT credentials: ${problem?.message ?? `cannot read ${file}`}`);
  };
  return { account: account ?? `file:${file}`, getCredential: async () => read() };
}
