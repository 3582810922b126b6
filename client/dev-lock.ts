// One `tatflow dev` per data directory. A second one would start a second Temporal on the same
// database and fail on tatd's port; instead it finds `<data>/dev.lock`, whose process is alive, and
// says where the running one is. The lock holds the owner's pid (and, once it is up, its URLs); a
// lock whose process is gone (killed, crashed) is stale and taken over.

import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const LockInfo = z.object({
  pid: z.number().int().positive(),
  startedAt: z.string(),
  tat: z.string().optional(),
  temporal: z.string().optional(),
  ui: z.string().optional(),
});
export type DevLockInfo = z.infer<typeof LockInfo>;

export interface DevLock {
  file: string;
  /** Records the URLs of the running system, for a second `tatflow dev` to show. */
  update(urls: Pick<DevLockInfo, 'tat' | 'temporal' | 'ui'>): void;
  /** Removes the lock if it is still this process's. */
  release(): void;
}

/** Whether `pid` is a live tatflow process (a reused pid of another program does not count). */
export function isLiveTatflow(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('tatflow');
  } catch {
    return true; // no /proc: trust the signal check
  }
}

function read(file: string): DevLockInfo | undefined {
  try {
    const r = LockInfo.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the lock, or returns what the live holder recorded. */
export function acquireDevLock(dataDir: string): DevLock | { running: DevLockInfo } {
  const file = join(dataDir, 'dev.lock');
  const mine: DevLockInfo = { pid: process.pid, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const held = read(file);
      if (held && held.pid !== process.pid && isLiveTatflow(held.pid)) return { running: held };
      // Stale (its process is gone) or unreadable (a crash mid-write): take it over.
      try {
        unlinkSync(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      continue;
    }
    writeSync(fd, JSON.stringify(mine) + '\n');
    closeSync(fd);
    let info = mine;
    const lock: DevLock = {
      file,
      update(urls) {
        info = { ...info, ...urls };
        if (read(file)?.pid === process.pid) writeFileSync(file, JSON.stringify(info) + '\n');
      },
      release() {
        if (existsSync(file) && read(file)?.pid === process.pid) unlinkSync(file);
      },
    };
    process.on('exit', () => lock.release());
    return lock;
  }
  throw new Error(`could not take ${file}: another tatflow dev keeps replacing it`);
}

/** What a second `tatflow dev` says. */
export function alreadyRunning(dataDir: string, held: DevLockInfo): string {
  const where = [
    held.tat && `TAT API ${held.tat}`,
    held.temporal && `Temporal ${held.temporal}`,
    held.ui && `Web UI ${held.ui}`,
  ].filter(Boolean);
  return [
    `tatflow dev is already running on ${dataDir} (pid ${held.pid}, since ${held.startedAt})` +
      (where.length ? `: ${where.join(' · ')}` : ', still starting'),
    'Use it from this directory (bin/tatflow run …, status, instances, runbooks), or stop it first',
    `(Ctrl-C in its terminal, or kill ${held.pid}).`,
  ].join('\n');
}
