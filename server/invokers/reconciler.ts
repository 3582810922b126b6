// Makes Temporal's Schedules match tatd's invokers. The database is the truth: an API action
// commits and calls changed(); the reconciler then creates, updates, pauses, unpauses or deletes
// that invoker's Schedule, in the background, again with back-off until Temporal takes it.
//
// It also heals drift: at start-up every invoker's Schedule is checked in full (creating a
// missing one, updating a stale one), and every Schedule whose id has tatd's own prefix for an
// account and region this tatd serves but no invoker behind it is deleted. Other Schedules on a
// shared Temporal (other prefixes, other tatds' accounts) are never touched. Later heals (every
// `timings.invokerHealIntervalMs`, and when Temporal is back after an outage) compare the listing
// with the database: missing, orphaned or wrongly paused Schedules.

import {
  ScheduleAlreadyRunning,
  ScheduleClient,
  ScheduleNotFoundError,
  type ScheduleDescription,
  type ScheduleOptions,
  type ScheduleUpdateOptions,
} from '@temporalio/client';
import { isId } from '../../tat/index.js';
import { accountKey } from '../config.js';
import type { ServerContext } from '../context.js';
import { scheduleId, SCHEDULE_PREFIX } from './names.js';
import { invokerRow } from './row.js';
import { desiredSchedule, revisionOf } from './spec.js';
import type { TemporalLink } from './temporal.js';

export interface Scope {
  account: string;
  region: string;
}

interface Dirty extends Scope {
  id: string;
  seq: number;
}

const BACKOFF_MAX_MS = 30_000;

function updateOf(want: ScheduleOptions): ScheduleUpdateOptions {
  return { spec: want.spec, action: want.action, policies: want.policies ?? {}, state: want.state ?? {} };
}

export class Reconciler {
  private readonly dirty = new Map<string, Dirty>();
  private seq = 0;
  /** The first heal checks every Schedule in full; later ones compare the listing. */
  private fullHealDone = false;
  private healDue = true;
  private stopped = false;
  private poke: () => void = () => {};
  private running: Promise<void> | undefined;

  constructor(
    private readonly server: ServerContext,
    private readonly link: TemporalLink,
  ) {}

  /** After a commit that changed invoker `id` (create, modify, enable, disable, delete). */
  changed(scope: Scope, id: string): void {
    this.dirty.set(`${scope.account}/${scope.region}/${id}`, { ...scope, id, seq: ++this.seq });
    this.poke();
  }

  /** Compares all Schedules with the database soon (Temporal is back). */
  healSoon(): void {
    this.healDue = true;
    this.poke();
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.poke();
    await this.running;
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.poke = done;
    });
  }

  private async loop(): Promise<void> {
    const log = this.server.log;
    let backoff = 1_000;
    let nextHeal = 0;
    while (!this.stopped) {
      try {
        if (this.healDue || Date.now() >= nextHeal) {
          this.healDue = false;
          await this.heal();
          nextHeal = Date.now() + this.server.config.timings.invokerHealIntervalMs;
        }
        for (const [key, d] of [...this.dirty]) {
          if (this.stopped) break;
          await this.sync(d, d.id);
          if (this.dirty.get(key)?.seq === d.seq) this.dirty.delete(key);
        }
        backoff = 1_000;
        if (this.dirty.size === 0 && !this.healDue) await this.idle(Math.max(0, nextHeal - Date.now()));
      } catch (e) {
        // An outage is logged once by the link; anything else names what failed, at each try.
        if (this.link.isUp())
          log.error({ err: e }, 'bringing invoker Schedules in line with tatd failed; retrying');
        if (!this.fullHealDone) this.healDue = true;
        await this.idle(backoff);
        backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
      }
    }
  }

  /** Makes invoker `id`'s Schedule what its row says (none when the row is gone). */
  private async sync(scope: Scope, id: string): Promise<void> {
    const { server } = this;
    const row = await invokerRow(server.db, scope, id);
    const sid = scheduleId(scope.account, scope.region, id);
    const want = row && desiredSchedule(row, server.config.timings.invokerCatchUpMs, server.now());
    const log = server.log.child({ invokerId: id, scheduleId: sid });
    await this.link.call(async (connection) => {
      const client = new ScheduleClient({ connection, namespace: this.link.namespace });
      const handle = client.getHandle(sid);
      let current: ScheduleDescription | undefined;
      try {
        current = await handle.describe();
      } catch (e) {
        if (!(e instanceof ScheduleNotFoundError)) throw e;
      }
      if (!want) {
        if (current) {
          await handle.delete();
          log.info('invoker Schedule deleted');
        }
        return;
      }
      if (!current) {
        try {
          await client.create(want);
          log.info({ paused: want.state?.paused ?? false }, 'invoker Schedule created');
        } catch (e) {
          if (!(e instanceof ScheduleAlreadyRunning)) throw e;
          await handle.update(() => updateOf(want));
          log.info('invoker Schedule updated');
        }
        return;
      }
      if (revisionOf(current.action.args) !== row.revision) {
        await handle.update(() => updateOf(want));
        log.info({ revision: row.revision, paused: want.state?.paused ?? false }, 'invoker Schedule updated');
      } else if (current.state.paused !== (want.state?.paused ?? false)) {
        if (want.state?.paused) await handle.pause(want.state.note);
        else await handle.unpause(want.state?.note);
        log.info({ paused: want.state?.paused ?? false }, 'invoker Schedule paused or unpaused');
      }
    });
  }

  /** Account and region of an id with this tatd's own prefix, with its invoker id. */
  private owner(id: string): (Scope & { invokerId: string }) | undefined {
    if (!id.startsWith(SCHEDULE_PREFIX)) return undefined;
    for (const account of new Set(this.server.config.accounts.map(accountKey)))
      for (const { Region: region } of this.server.config.regions) {
        const prefix = scheduleId(account, region, '');
        const invokerId = id.slice(prefix.length);
        if (id.startsWith(prefix) && isId('invoker', invokerId)) return { account, region, invokerId };
      }
    return undefined;
  }

  private async heal(): Promise<void> {
    const { server } = this;
    const listed = new Map<string, { paused: boolean }>();
    await this.link.call(async (connection) => {
      const client = new ScheduleClient({ connection, namespace: this.link.namespace });
      for await (const s of client.list())
        if (this.owner(s.scheduleId)) listed.set(s.scheduleId, { paused: s.state.paused });
    });
    const rows = await server.db.selectFrom('invokers').selectAll().execute();
    const now = server.now();
    const catchUp = server.config.timings.invokerCatchUpMs;
    const wanted = new Map(rows.map((r) => [scheduleId(r.account, r.region, r.id), r]));
    let fixed = 0;
    for (const [sid] of listed) {
      const row = wanted.get(sid);
      if (row && desiredSchedule(row, catchUp, now)) continue;
      const o = this.owner(sid)!;
      server.log.info({ scheduleId: sid }, 'removing an invoker Schedule that tatd no longer has');
      await this.sync(o, o.invokerId);
      fixed++;
    }
    for (const [sid, row] of wanted) {
      const want = desiredSchedule(row, catchUp, now);
      const seen = listed.get(sid);
      // The first heal after start-up checks every Schedule in full: a change made just before a
      // restart may never have reached Temporal.
      if (!this.fullHealDone || (want && (!seen || seen.paused !== (row.enabled !== 1)))) {
        await this.sync(row, row.id);
        if (this.fullHealDone) fixed++;
      }
    }
    if (!this.fullHealDone)
      server.log.info(
        { invokers: rows.length, schedules: listed.size },
        'invoker Schedules checked against tatd',
      );
    else if (fixed > 0) server.log.info({ fixed }, 'invoker Schedules brought back in line with tatd');
    this.fullHealDone = true;
  }
}
