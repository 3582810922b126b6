// `tatflow register-code`: CreateRegisterCode through the official SDK, as `tccli tat
// CreateRegisterCode` would, with the code written to a file (mode 0600) that `tatflow agent
// --register-code-file` reads. Provisioning without a person in the loop: docker-compose.yml's
// init step makes the code its demo agents register with.

import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { createTatClient } from '../../tat/node/client.js';
import { parseFlags } from '../flags.js';
import { engineSettings } from '../settings.js';

/** What the file holds: enough to run `agent register <region> <id> <value>`. */
export const RegisterCodeFile = z.object({
  region: z.string().min(1),
  registerCodeId: z.string().min(1),
  registerCodeValue: z.string().min(1),
});
export type RegisterCodeFile = z.infer<typeof RegisterCodeFile>;

export function readRegisterCodeFile(path: string): RegisterCodeFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read the registration code file ${path}: ${(e as Error).message}`, { cause: e });
  }
  const r = RegisterCodeFile.safeParse(json);
  if (!r.success)
    throw new Error(
      `${path} is not a registration code file ({"region","registerCodeId","registerCodeValue"}, as tatflow register-code writes)`,
    );
  return r.data;
}

const Flags = z.object({
  out: z.string().min(1),
  tatEndpoint: z.string().optional(),
  region: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(10000).default(10),
  hours: z.coerce.number().int().min(1).default(4),
  description: z.string().max(128).default('tatflow register-code'),
  ipRange: z.string().optional(),
  wait: z.coerce.number().int().min(0).max(3600).default(0),
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function registerCodeCommand(): Command {
  return new Command('register-code')
    .description(
      'Create a registration code (CreateRegisterCode) and write it to a file for `tatflow agent --register-code-file`',
    )
    .requiredOption('--out <file>', 'where to write the code (JSON, mode 0600)')
    .option(
      '--tat-endpoint <url>',
      'tatd URL (env TATFLOW_TAT_ENDPOINT); credentials from TENCENTCLOUD_SECRET_ID/KEY',
    )
    .option('--region <region>', 'region of the machines (env TATFLOW_REGION; default ap-guangzhou)')
    .option('--limit <n>', 'how many machines may register with it (default 10)')
    .option('--hours <n>', 'how long it may be used (default 4)')
    .option('--description <text>', 'description of the code')
    .option('--ip-range <cidr>', 'only machines from this address or CIDR block may register')
    .option('--wait <seconds>', 'retry while tatd cannot be reached, up to this long (default 0)')
    .action(async (raw: unknown) => {
      const f = parseFlags(Flags, raw);
      const settings = engineSettings({
        ...(f.tatEndpoint ? { tatEndpoint: f.tatEndpoint } : {}),
        ...(f.region ? { region: f.region } : {}),
      });
      const tat = createTatClient({ ...settings.tat, region: settings.region });
      const deadline = Date.now() + f.wait * 1000;
      for (;;) {
        try {
          const r = await tat.CreateRegisterCode({
            Description: f.description,
            RegisterLimit: f.limit,
            EffectiveTime: f.hours,
            ...(f.ipRange ? { IpAddressRange: f.ipRange } : {}),
          });
          const file: RegisterCodeFile = {
            region: settings.region,
            registerCodeId: r.RegisterCodeId!,
            registerCodeValue: r.RegisterCodeValue!,
          };
          mkdirSync(dirname(f.out), { recursive: true, mode: 0o700 });
          writeFileSync(f.out, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
          chmodSync(f.out, 0o600);
          process.stdout.write(`registration code ${file.registerCodeId} written to ${f.out}\n`);
          return;
        } catch (e) {
          // An API refusal is final; a server not up yet is waited for.
          const unreachable = !(e as { code?: string }).code;
          if (!unreachable || Date.now() >= deadline) throw e;
          await sleep(1000);
        }
      }
    });
}
