// The user test tasks run as. Tasks run through the user's login files (`/etc/profile`, then
// `~/.bash_profile` or `~/.bashrc`, as the reference agent does), and a slow or broken profile of a
// real account (root's `~/.bashrc` running `pyenv init` behind a stale lock once cost 60 s per
// task) must not decide whether the suite passes. So, when the tests run as root, every test
// process creates a throwaway user `tatflow-t<pid>` whose home is a temporary directory holding
// login files the tests wrote, and removes it when the process exits (users left by a killed
// process are removed by the next one). Not root, tasks cannot switch users: they run as the
// current user, through that user's own login files.
//
// Tests that need root on purpose (the real root profile, the profile order) say so and use
// `asRootInNamespace`/`root` explicitly; nothing measured goes through root's profile.

import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface TaskUser {
  name: string;
  uid: number;
  gid: number;
  /** Its home: login files the tests control (a temporary directory when the tests run as root). */
  home: string;
  /** True when it is a throwaway user these tests created (the tests run as root). */
  throwaway: boolean;
  /** A new empty directory this user owns (working directories, marker files, PATH shims). */
  dir(prefix: string): string;
  /** Gives `path` (recursively) to this user: files a test made for its tasks to change. */
  own(path: string): void;
}

export const isRoot = process.getuid?.() === 0;

const PREFIX = 'tatflow-t';
/** The login files of the throwaway user: quick, and saying where they are. */
const PROFILE = '# login file of a tatflow test user: kept empty so tasks start fast\n';

const blockFor = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Runs a user-administration command, retrying while another process holds /etc/passwd's lock. */
function admin(cmd: string, args: string[]): void {
  for (let attempt = 0; ; attempt++) {
    try {
      execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      return;
    } catch (e) {
      const stderr = String((e as { stderr?: Buffer }).stderr ?? '');
      // useradd/userdel exit 10 (or say "lock") when another process edits the user database.
      if (attempt < 50 && /lock|try again/i.test(stderr)) {
        blockFor(100);
        continue;
      }
      throw new Error(`${cmd} ${args.join(' ')} failed: ${stderr.trim() || (e as Error).message}`, {
        cause: e,
      });
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Throwaway users of test processes that are gone (killed before their exit hook ran). */
function removeStale(): void {
  const passwd = readFileSync('/etc/passwd', 'utf8');
  for (const m of passwd.matchAll(new RegExp(`^${PREFIX}(\\d+):[^:]*:\\d+:\\d+:[^:]*:([^:]*):`, 'gm'))) {
    if (alive(Number(m[1]))) continue;
    try {
      admin('userdel', ['-f', `${PREFIX}${m[1]}`]);
    } catch {
      // another test process removed it first
    }
    if (m[2]!.startsWith(tmpdir())) rmSync(m[2]!, { recursive: true, force: true });
  }
}

function idsOf(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`user ${name} was created but is not in /etc/passwd`);
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

function createThrowaway(): TaskUser {
  removeStale();
  const name = `${PREFIX}${process.pid}`;
  const home = mkdtempSync(join(tmpdir(), 'tatflow-home-'));
  admin('useradd', [
    '--system',
    '--no-create-home',
    '--home-dir',
    home,
    '--shell',
    '/bin/bash',
    '--user-group',
    name,
  ]);
  process.on('exit', () => {
    try {
      admin('userdel', ['-f', name]);
    } catch {
      // the next test process removes it (removeStale)
    }
    rmSync(home, { recursive: true, force: true });
  });
  const { uid, gid } = idsOf(name);
  for (const f of ['.bash_profile', '.bashrc']) writeFileSync(join(home, f), PROFILE);
  execFileSync('chown', ['-R', `${uid}:${gid}`, home]);
  return {
    name,
    uid,
    gid,
    home,
    throwaway: true,
    dir(prefix) {
      const d = mkdtempSync(join(tmpdir(), `tatflow-${prefix}-`));
      chownSync(d, uid, gid);
      return d;
    },
    own: (path) => execFileSync('chown', ['-R', `${uid}:${gid}`, path]),
  };
}

function currentUser(): TaskUser {
  const me = userInfo();
  return {
    name: me.username,
    uid: me.uid,
    gid: me.gid,
    home: homedir(),
    throwaway: false,
    dir: (prefix) => mkdtempSync(join(tmpdir(), `tatflow-${prefix}-`)),
    own: () => {},
  };
}

let user: TaskUser | undefined;

/** The user test tasks run as (created on first use when the tests run as root). */
export function taskUser(): TaskUser {
  user ??= isRoot ? createThrowaway() : currentUser();
  return user;
}

/** tatd's `defaults` for tests: tasks run as the task user, in a directory it owns. */
export function taskDefaults(workingDirectory?: string): { username: string; workingDirectory: string } {
  const u = taskUser();
  return { username: u.name, workingDirectory: workingDirectory ?? u.home };
}
