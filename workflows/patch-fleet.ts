// patchFleet: OS package upgrades across the fleet (apt, or dnf/yum), batch by batch: a pre-check,
// the upgrade, an optional reboot with a wait until the agent is back, and a post-check.

import { z } from 'zod';
import { defineRunbook } from './engine/define.js';
import { healthCheckFlags } from './engine/flags.js';
import { commandSpecSchema, instanceIdSchema } from './engine/schemas.js';
import type { TargetStep } from './engine/types.js';

export const patchFleetParams = z.strictObject({
  packages: z
    .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9+._:~-]*$/, 'not a package name'))
    .optional()
    .describe('packages to upgrade; empty or absent: every upgradable package'),
  reboot: z
    .enum(['never', 'always', 'if-required'])
    .optional()
    .describe('reboot after the upgrade: never (default), always, or when the OS says it is required'),
  timeoutSeconds: z.number().int().min(1).optional().describe('seconds the upgrade may take (default 1800)'),
  preCheck: commandSpecSchema
    .optional()
    .describe('replaces the built-in pre-check (package manager present, no lock held, 1 GiB free)'),
  postCheck: commandSpecSchema
    .optional()
    .describe('the health check after the upgrade (and reboot); default: the package database is sane'),
  postCheckRetries: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('extra attempts of a failing post-check (default 2)'),
  postCheckIntervalSeconds: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('seconds between post-check attempts (default 10)'),
  postCheckOn: instanceIdSchema
    .optional()
    .describe('run the post-check once per batch on this instance instead of on every target'),
});

export type PatchFleetParams = z.input<typeof patchFleetParams>;

/** Shell shared by the scripts: which package manager this machine has. */
const DETECT = `pm=
for c in apt-get dnf yum; do if command -v "$c" >/dev/null 2>&1; then pm=$c; break; fi; done
if [ -z "$pm" ]; then echo "no supported package manager (apt-get, dnf, yum) on this machine" >&2; exit 3; fi
`;

const PRE_CHECK = `${DETECT}echo "package manager: $pm"
free_kb=$(df -Pk / | awk 'NR==2 {print $4}')
if [ "\${free_kb:-0}" -lt 1048576 ]; then echo "less than 1 GiB free on /: \${free_kb} KiB" >&2; exit 4; fi
if [ "$pm" = apt-get ] && command -v fuser >/dev/null 2>&1 && fuser /var/lib/dpkg/lock-frontend >/dev/null 2>&1; then
  echo "the dpkg lock is held by another process" >&2; exit 5
fi
echo "pre-check passed"
`;

function upgradeScript(packages: string[]): string {
  const pkgs = packages.map((p) => `'${p.replaceAll("'", `'\\''`)}'`).join(' ');
  return `${DETECT}set -e
case "$pm" in
  apt-get)
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    ${pkgs ? `apt-get install -y -q --only-upgrade -o Dpkg::Options::=--force-confold ${pkgs}` : 'apt-get upgrade -y -q -o Dpkg::Options::=--force-confold'}
    ;;
  *)
    "$pm" -y upgrade ${pkgs}
    ;;
esac
echo "upgrade done with $pm"
`;
}

/** Reboots in the background so the task can report first; says so when no reboot is needed. */
function rebootScript(when: 'always' | 'if-required'): string {
  const check =
    when === 'always'
      ? ''
      : `required=no
if [ -f /var/run/reboot-required ]; then required=yes
elif command -v needs-restarting >/dev/null 2>&1 && ! needs-restarting -r >/dev/null 2>&1; then required=yes; fi
if [ "$required" = no ]; then echo "tatflow:no-reboot (not required)"; exit 0; fi
`;
  return `${check}echo "rebooting"
setsid sh -c 'sleep 2; reboot' </dev/null >/dev/null 2>&1 &
exit 0
`;
}

const POST_CHECK = `${DETECT}case "$pm" in
  apt-get) dpkg --audit && ! apt-get check 2>&1 | grep -q '^E:' ;;
  *) "$pm" -q check >/dev/null 2>&1 || rpm -qa >/dev/null ;;
esac
echo "post-check passed"
`;

function build(p: z.output<typeof patchFleetParams>) {
  const steps: TargetStep[] = [
    {
      kind: 'command',
      name: 'precheck',
      command: p.preCheck ?? { content: PRE_CHECK, timeout: 120 },
      changes: false,
    },
    {
      kind: 'command',
      name: 'upgrade',
      command: { content: upgradeScript(p.packages ?? []), timeout: p.timeoutSeconds ?? 1800 },
    },
  ];
  const reboot = p.reboot ?? 'never';
  if (reboot !== 'never')
    steps.push({ kind: 'reboot', name: 'reboot', command: { content: rebootScript(reboot), timeout: 60 } });
  return {
    steps,
    healthCheck: {
      command: p.postCheck ?? { content: POST_CHECK, timeout: 300 },
      retries: p.postCheckRetries ?? 2,
      intervalSeconds: p.postCheckIntervalSeconds ?? 10,
      ...(p.postCheckOn ? { onInstance: p.postCheckOn } : {}),
    },
  };
}

export const patchFleet = defineRunbook({
  description:
    'OS package upgrades (apt, dnf or yum), batch by batch: a pre-check, the upgrade, an optional reboot with a wait for the agent, and a post-check',
  params: patchFleetParams,
  flags: [
    {
      name: 'packages',
      arg: '<names>',
      help: 'packages to upgrade, comma-separated (default: all)',
      param: 'packages',
      value: { kind: 'list' },
    },
    {
      name: 'reboot',
      arg: '<never|always|if-required>',
      help: 'reboot after the upgrade (default never)',
      param: 'reboot',
      value: { kind: 'choice', choices: ['never', 'always', 'if-required'] },
    },
    {
      name: 'timeout',
      arg: '<seconds>',
      help: 'seconds the upgrade may take (default 1800)',
      param: 'timeoutSeconds',
      value: { kind: 'int', min: 1 },
    },
    // The post-check is a health check that is always there: its refinements tune the built-in one.
    ...healthCheckFlags({
      command: 'postCheck',
      retries: 'postCheckRetries',
      interval: 'postCheckIntervalSeconds',
      on: 'postCheckOn',
      needCommand: false,
    }),
  ],
  build,
});
