// TAT API credentials for the commands that call the API (`worker`, `preview`, `instances`), from
// the usual places, in order:
//   1. `--credentials-file FILE` (or TATFLOW_CREDENTIALS_FILE): a JSON file {"secretId",
//      "secretKey", "token"?}, or the `Credentials` object of STS ({"TmpSecretId", "TmpSecretKey",
//      "Token"}). A file, not `--secret-id`/`--secret-key` flags: a command line is readable by
//      every local user (ps, /proc/<pid>/cmdline) while a file can be kept to its owner, so the file
//      must be mode 0600 (like ssh's keys, one readable by others is refused, saying how to fix it).
//      The worker reads it again whenever it changes (renewed temporary credentials:
//      activities/credentials.ts);
//   2. TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (and TENCENTCLOUD_SESSION_TOKEN for a
//      temporary key), the variables Tencent Cloud's own tools read;
//   3. the dev system's `.tatflow/dev/credentials.json` (written by `tatflow dev`, mode 0600).
// When none is found, the error says where it looked.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { credentialsOf } from '../activities/credentials.js';

export const DEV_CREDENTIALS_FILE = '.tatflow/dev/credentials.json';

export interface TatCredentials {
  secretId: string;
  secretKey: string;
  /** A temporary key's session token (STS). */
  token?: string;
  /** Where they were found, for messages: `--credentials-file x`, `environment`, or the dev file. */
  source: string;
  /** They are the `tatflow dev` system's own (so its endpoint goes with them). */
  dev: boolean;
  /** The credentials file they came from (absolute), when the user gave one. */
  file?: string;
}

const CredentialsFile = z.object({
  secretId: z.string().min(1, 'is empty'),
  secretKey: z.string().min(1, 'is empty'),
  token: z.string().min(1).optional(),
});

function readCredentialsFile(file: string, label: string): Omit<TatCredentials, 'source' | 'dev'> {
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077)
    throw new Error(
      `${label} ${file} can be read by other users (mode ${mode.toString(8)}): chmod 600 ${file}`,
    );
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${label} ${file} is not JSON: ${(e as Error).message}`);
  }
  const r = CredentialsFile.safeParse(json);
  if (r.success) return r.data;
  const sts = credentialsOf(json);
  if (sts) return sts;
  throw new Error(
    `${label} ${file}: ${r.error.issues.map((i) => `${i.path.join('.') || 'the file'} ${i.message}`).join('; ')} ` +
      '(expected {"secretId": "AKID…", "secretKey": "…", "token": "…" (only for a temporary key)}, ' +
      'or STS\'s {"TmpSecretId": "…", "TmpSecretKey": "…", "Token": "…"})',
  );
}

/** The dev system's key pair, if `tatflow dev` ran in this directory. */
export function devCredentials(): { secretId: string } | undefined {
  const file = resolve(DEV_CREDENTIALS_FILE);
  if (!existsSync(file)) return undefined;
  try {
    return CredentialsFile.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
}

/** The credentials for the TAT API, or an error that says where it looked. */
export function tatCredentials(
  flags: { credentialsFile?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): TatCredentials {
  const given = flags.credentialsFile ?? env.TATFLOW_CREDENTIALS_FILE;
  if (given !== undefined) {
    const label = flags.credentialsFile !== undefined ? '--credentials-file' : 'TATFLOW_CREDENTIALS_FILE';
    const file = resolve(given);
    if (!existsSync(file)) throw new Error(`${label} ${file}: not found`);
    const c = readCredentialsFile(file, label);
    return { ...c, source: `${label} ${file}`, dev: c.secretId === devCredentials()?.secretId, file };
  }
  const id = env.TENCENTCLOUD_SECRET_ID;
  const key = env.TENCENTCLOUD_SECRET_KEY;
  if (id || key) {
    if (!id || !key)
      throw new Error(
        `${id ? 'TENCENTCLOUD_SECRET_ID' : 'TENCENTCLOUD_SECRET_KEY'} is set but ${id ? 'TENCENTCLOUD_SECRET_KEY' : 'TENCENTCLOUD_SECRET_ID'} is not: set both`,
      );
    const token = env.TENCENTCLOUD_SESSION_TOKEN;
    return {
      secretId: id,
      secretKey: key,
      ...(token ? { token } : {}),
      source: 'TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY',
      dev: false,
    };
  }
  const devFile = resolve(DEV_CREDENTIALS_FILE);
  if (existsSync(devFile))
    return { ...readCredentialsFile(devFile, 'the dev system’s credentials'), source: devFile, dev: true };
  throw new Error(
    [
      'no TAT API credentials; looked, in order, at:',
      '  --credentials-file FILE: not given (nor TATFLOW_CREDENTIALS_FILE)',
      '  TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY: not set',
      `  ${devFile}: not found (\`tatflow dev\` writes it)`,
      'give a credentials file (JSON {"secretId": "AKID…", "secretKey": "…"}, mode 0600), set the variables, or run `tatflow dev` in this directory first',
    ].join('\n'),
  );
}
