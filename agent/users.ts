// Local account lookup for the task's Username: /etc/passwd first, then `getent passwd` so
// directory-service (NSS) users work too. The small system files are read synchronously and
// parsed once per change (checked by mtime and size): a fleet agent starts many tasks at once.

import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';

export interface LocalUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/** A file parsed once per version of it; `parse` gets '' when the file does not exist. */
function cachedFile<T>(path: string, parse: (text: string) => T): () => T {
  let key = '';
  let value: T | undefined;
  return () => {
    let k = 'missing';
    try {
      const st = statSync(path);
      k = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      // missing file
    }
    if (value === undefined || k !== key) {
      let text = '';
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        text = '';
      }
      value = parse(text);
      key = k;
    }
    return value;
  };
}

function parseLine(line: string): LocalUser | undefined {
  const f = line.split(':');
  if (f.length < 7) return undefined;
  return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]!, shell: f[6]! };
}

const passwd = cachedFile('/etc/passwd', (text) => {
  const users = new Map<string, LocalUser>();
  for (const line of text.split('\n')) {
    const u = parseLine(line);
    if (u && !users.has(u.name)) users.set(u.name, u);
  }
  return users;
});

/**
 * The account named `name`, or undefined. The name is only ever a name: `--` ends getent's options
 * (`--service=files` would otherwise be one, and the lookup of no key lists every user, root
 * first), and the entry found must carry that very name (getent also looks up numeric uids).
 */
export async function lookupUser(name: string): Promise<LocalUser | undefined> {
  if (name === '') return undefined;
  const local = passwd().get(name);
  if (local) return local;
  return new Promise((resolve) => {
    execFile('getent', ['passwd', '--', name], { timeout: 5000 }, (err, stdout) => {
      const found = err ? undefined : parseLine(stdout.split('\n')[0]!.trim());
      resolve(found?.name === name ? found : undefined);
    });
  });
}

/** KEY=VALUE lines of /etc/environment (comments, `export ` and quotes handled). */
export const systemEnvironment = cachedFile('/etc/environment', (text) => {
  const env: Record<string, string> = {};
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
});
