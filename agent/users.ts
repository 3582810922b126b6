// Local account lookup for the task's Username: /etc/passwd first, then `getent passwd` so
// directory-service (NSS) users work too.

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export interface LocalUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

function parseLine(line: string): LocalUser | undefined {
  const f = line.split(':');
  if (f.length < 7) return undefined;
  return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]!, shell: f[6]! };
}

export async function lookupUser(name: string): Promise<LocalUser | undefined> {
  try {
    const text = await readFile('/etc/passwd', 'utf8');
    for (const line of text.split('\n')) if (line.startsWith(`${name}:`)) return parseLine(line);
  } catch {
    // no /etc/passwd: rely on getent
  }
  return new Promise((resolve) => {
    execFile('getent', ['passwd', name], { timeout: 5000 }, (err, stdout) => {
      resolve(err ? undefined : parseLine(stdout.trim()));
    });
  });
}

/** KEY=VALUE lines of /etc/environment (comments, `export ` and quotes handled). */
export async function systemEnvironment(): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  let text = '';
  try {
    text = await readFile('/etc/environment', 'utf8');
  } catch {
    return env;
  }
  for (let line of text.split('\n')) {
    line = line.trim();
    if (!line || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice(7).trim();
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let value = line.slice(eq + 1).trim();
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    env[line.slice(0, eq).trim()] = value;
  }
  return env;
}
