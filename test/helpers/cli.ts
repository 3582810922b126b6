// `bin/tatflow <args>` as a child process, the way a user runs it: its exit status and output.
// The environment is exactly what the test gives (plus PATH): nothing of the test process's own
// TENCENTCLOUD_* or TATFLOW_* settings leaks in.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../../bin/tatflow', import.meta.url));

export interface Ran {
  code: number | null;
  out: string;
  err: string;
}

export function tatflowCli(
  args: string[],
  o: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], {
      ...(o.cwd ? { cwd: o.cwd } : {}),
      env: { PATH: process.env.PATH, ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(
        new Error(
          `tatflow ${args.join(' ')} did not end within ${o.timeoutMs ?? 60_000} ms:\n${out}\n${err}`,
        ),
      );
    }, o.timeoutMs ?? 60_000);
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}
