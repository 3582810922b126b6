// The login files tasks go through, checked on purpose (every other test runs tasks as a
// throwaway user with quiet login files, see test/helpers/task-user.ts). Needs root: it runs a
// task as root, and gives an agent its own /etc/profile and /root in a mount namespace
// (`unshare --mount` with bind mounts), so the machine's files are never edited.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PROFILE } from '../../agent/executor.js';
import { systemEnvironment } from '../../agent/users.js';
import type { TatClient } from '../../tat/node/client.js';
import { startAgent, waitAgents, type AgentProcess } from '../../testkit/agents.js';
import { b64, outputOf, waitFinal } from '../helpers/invocations.js';
import { client, startTatd, type Tatd } from '../../testkit/tatd.js';

const ACCOUNT = { secretId: 'AKIDprofile', secretKey: 'profile-secret', appId: '1500000101' };
// Root's real profile may be slow on a machine (pyenv): this test is not timed, only patient.
const PATIENCE_MS = 150_000;

let tatd: Tatd;
let tat: TatClient;
const agents: AgentProcess[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'tatflow-profiles-'));

before(async () => {
  // tatd's own defaults: root in /root, as a real deployment has them.
  tatd = await startTatd({
    accounts: [`${ACCOUNT.secretId}:${ACCOUNT.secretKey}:${ACCOUNT.appId}`],
    openEnrollment: true,
    builtInDefaults: true,
  });
  tat = client(tatd, ACCOUNT);
});

after(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await tatd?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function agent(machineId: string, wrap?: string[]): Promise<AgentProcess> {
  const a = startAgent(tatd.url, { machineId, account: ACCOUNT.appId, ...(wrap ? { wrap } : {}) });
  agents.push(a);
  await waitAgents(tat, [a.instanceId]);
  return a;
}

async function runAsRoot(instanceId: string, script: string): Promise<string> {
  // TAT's default Timeout (60 s) is shorter than a profile stuck on a stale pyenv lock (60 s wait).
  const { InvocationId } = await tat.RunCommand({
    Content: b64(script),
    InstanceIds: [instanceId],
    Timeout: PATIENCE_MS / 1000,
  });
  const { tasks } = await waitFinal(tat, InvocationId!, PATIENCE_MS);
  assert.equal(tasks[0]!.TaskStatus, 'SUCCESS', outputOf(tasks[0]!));
  return outputOf(tasks[0]!);
}

test("a task as root goes through root's real login files", { timeout: 2 * PATIENCE_MS }, async () => {
  assert.equal(process.getuid?.(), 0, 'this file runs as root (scripts/test.mjs runs test/root only then)');
  const a = await agent('profile-real');
  const out = await runAsRoot(a.instanceId, 'echo "$(id -u) $HOME"; echo "$PATH"');
  const [who, path] = out.trimEnd().split('\n');
  assert.equal(who, '0 /root');
  // What root's login files make of the agent's environment, computed here the same way.
  const expected = spawnSync('bash', ['-c', `${PROFILE} bash -c 'echo "$PATH"'`], {
    cwd: '/root',
    env: {
      ...process.env,
      ...systemEnvironment(),
      HOME: '/root',
      USER: 'root',
      LOGNAME: 'root',
      SHELL: '/bin/bash',
      TERM: 'xterm-color',
    },
    encoding: 'utf8',
    timeout: PATIENCE_MS,
  });
  assert.equal(path, expected.stdout.trimEnd());
});

describe("the reference agent's profile order", () => {
  const home = join(scratch, 'root-home');
  const etcProfile = join(scratch, 'etc-profile');
  let a: AgentProcess;
  const marker = join(home, 'order');

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'this file runs as root (scripts/test.mjs runs test/root only then)');
    spawnSync('mkdir', ['-p', home]);
    writeFileSync(etcProfile, `echo etc-profile >> "$HOME/order"\n`);
    // The agent sees these as /etc/profile and /root; nothing else on the machine changes.
    a = await agent('profile-order', [
      'unshare',
      '--mount',
      '--',
      'sh',
      '-c',
      `mount --bind "${etcProfile}" /etc/profile && mount --bind "${home}" /root && exec "$@"`,
      'sh',
    ]);
  });

  const order = async (files: Record<string, string | undefined>): Promise<string[]> => {
    for (const [name, body] of Object.entries(files)) {
      rmSync(join(home, name), { force: true });
      if (body !== undefined) writeFileSync(join(home, name), body);
    }
    rmSync(marker, { force: true });
    await runAsRoot(a.instanceId, 'echo script >> "$HOME/order"');
    return readFileSync(marker, 'utf8').trim().split('\n');
  };

  test('/etc/profile, then ~/.bash_profile (and not ~/.bashrc) when it exists', async () => {
    assert.deepEqual(
      await order({
        '.bash_profile': 'echo bash_profile >> "$HOME/order"\n',
        '.bashrc': 'echo bashrc >> "$HOME/order"\n',
      }),
      ['etc-profile', 'bash_profile', 'script'],
    );
  });

  test('/etc/profile, then ~/.bashrc when there is no ~/.bash_profile', async () => {
    assert.deepEqual(
      await order({ '.bash_profile': undefined, '.bashrc': 'echo bashrc >> "$HOME/order"\n' }),
      ['etc-profile', 'bashrc', 'script'],
    );
  });

  test('~/.bashrc too when ~/.bash_profile fails', async () => {
    assert.deepEqual(
      await order({
        '.bash_profile': 'echo bash_profile >> "$HOME/order"\nfalse\n',
        '.bashrc': 'echo bashrc >> "$HOME/order"\n',
      }),
      ['etc-profile', 'bash_profile', 'bashrc', 'script'],
    );
  });
});
