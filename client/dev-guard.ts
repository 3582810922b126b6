// A guard for the dev system: `tatflow dev` run as root gives its fleet's agents real root shells
// on this very machine, so a runbook with a reboot step (`patchFleet --reboot if-required`, the
// README's example) would reboot the developer's host. A run that may reboot and goes to the dev
// system of this directory (its Temporal) while that fleet runs as root asks first on a terminal,
// and is refused elsewhere, unless `--yes` says so.

import { createInterface } from 'node:readline/promises';
import type { RegisteredRunbook } from '../workflows/registry.js';
import { devEngine } from './settings.js';

/** Whether the runbook's definition for these parameters has a reboot step. */
export function mayReboot(r: RegisteredRunbook, params: unknown): boolean {
  try {
    return r.spec.build(r.spec.params.parse(params)).steps.some((s) => s.kind === 'reboot');
  } catch {
    return false; // the run refuses such parameters anyway
  }
}

/** The targets are the root fleet of the `tatflow dev` system of this directory. */
export function devRootFleet(temporalAddress: string): boolean {
  const dev = devEngine();
  return dev.rootFleet === true && dev.temporalAddress === temporalAddress;
}

export async function confirmDevReboot(
  r: RegisteredRunbook,
  params: unknown,
  temporalAddress: string,
  yes: boolean,
): Promise<void> {
  if (yes || !devRootFleet(temporalAddress) || !mayReboot(r, params)) return;
  const why =
    `this ${r.name} run may reboot its targets, and they are the \`tatflow dev\` fleet, whose agents ` +
    'run as root on this machine: a reboot step would reboot this host';
  if (!process.stdin.isTTY || !process.stdout.isTTY)
    throw new Error(`refusing to start: ${why}. Pass --yes to start it anyway.`);
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(`Warning: ${why}.\nStart it anyway? Type "yes" to go on: `);
    if (answer.trim().toLowerCase() !== 'yes') throw new Error('not started');
  } finally {
    rl.close();
  }
}
