// Reports the server has not confirmed yet (UploadTaskLog, ReportTaskFinish), kept on disk and
// retried until tatd answers, so a task that ends while tatd is down still reports once it is
// back, even across a restart of the agent. The reference agent gives up after two tries; this
// guarantee is tatflow's own (design decisions). Reports of one task go out in order.

import { mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { AgentCallError, type InvokeClient } from './invoke-client.js';

interface Report {
  seq: number;
  taskId: string;
  action: string;
  fields: object;
  written: Promise<void>;
}

const FILE = /^(invt-[a-z0-9]+)\.(\d+)\.json$/;
const MAX_BACKOFF_MS = 10_000;

export class Outbox {
  private readonly queues = new Map<string, Report[]>();
  private seq = 0;
  private closed = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly dir: string,
    private readonly client: InvokeClient,
    private readonly log: Logger,
  ) {}

  /** Reads what an earlier run left unconfirmed and starts sending it. */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const found: Report[] = [];
    for (const name of await readdir(this.dir)) {
      const m = FILE.exec(name);
      if (!m) continue;
      try {
        const { action, fields } = JSON.parse(await readFile(join(this.dir, name), 'utf8')) as {
          action: string;
          fields: object;
        };
        found.push({ seq: Number(m[2]), taskId: m[1]!, action, fields, written: Promise.resolve() });
      } catch (err) {
        this.log.warn({ err, file: name }, 'unreadable kept report dropped');
        await unlink(join(this.dir, name)).catch(() => undefined);
      }
    }
    found.sort((a, b) => a.seq - b.seq);
    this.seq = found.length ? found[found.length - 1]!.seq : 0;
    if (found.length) this.log.info({ reports: found.length }, 're-sending reports kept from an earlier run');
    for (const r of found) this.push(r);
  }

  enqueue(taskId: string, action: string, fields: object): void {
    const seq = ++this.seq;
    const file = this.file(taskId, seq);
    const written = writeFile(file, JSON.stringify({ action, fields }), { mode: 0o600 }).catch(
      (err: unknown) =>
        this.log.error({ err, taskId, action }, 'could not keep a report on disk; sending it anyway'),
    );
    this.push({ seq, taskId, action, fields, written });
  }

  /** Resolves when nothing is waiting to be sent. */
  idle(): Promise<void> {
    if (this.queues.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get pending(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  close(): void {
    this.closed = true;
  }

  private file(taskId: string, seq: number): string {
    return join(this.dir, `${taskId}.${String(seq).padStart(12, '0')}.json`);
  }

  private push(r: Report): void {
    const q = this.queues.get(r.taskId);
    if (q) {
      q.push(r);
      return;
    }
    this.queues.set(r.taskId, [r]);
    this.send(r.taskId).catch((err: unknown) =>
      this.log.error({ err, taskId: r.taskId }, 'report sender failed'),
    );
  }

  private async send(taskId: string): Promise<void> {
    const q = this.queues.get(taskId)!;
    let backoff = 500;
    while (q.length > 0 && !this.closed) {
      const r = q[0]!;
      try {
        await this.client.call(r.action, r.fields);
      } catch (e) {
        if (e instanceof AgentCallError && e.retryable) {
          this.log.debug({ taskId, action: r.action, reason: e.message }, 'report not confirmed; will retry');
          await new Promise((resolve) => setTimeout(resolve, backoff));
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
          continue;
        }
        this.log.warn(
          { taskId, action: r.action, reason: (e as Error).message },
          'report refused by the server',
        );
      }
      backoff = 500;
      await r.written;
      await unlink(this.file(taskId, r.seq)).catch(() => undefined);
      q.shift();
    }
    this.queues.delete(taskId);
    if (this.queues.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}
