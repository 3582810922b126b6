// One machine identity: its notify WebSocket (kicks only), its HTTP calls, its running tasks and
// its durable reports. Connection rules follow the reference agent
// (docs/agent-protocol-reference.md, "Connection"): poll once 2 s after connecting, then only when
// kicked; ping every 120 s and give up after 3 unanswered; reconnect after rand[3, min(8·2^n, 512))
// s, n = failed connects in a row.

import { chmod, mkdir } from 'node:fs/promises';
import { arch, hostname, release, type, version } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { WebSocket } from 'ws';
import { DescribeTasksResponse, WsMessage, type AgentTaskMessage } from '../tat/agent-protocol.js';
import type { Executor, TaskWorker } from './worker-executor.js';
import { AGENT_VERSION, requestHeaders, type SigningIdentity } from './headers.js';
import { AgentCallError, InvokeClient } from './invoke-client.js';
import { localIpFor } from './registration.js';
import { Outbox } from './outbox.js';
import { uploadOutput } from './cos-upload.js';
import type { FinishFields, FullOutput } from './executor.js';

export interface Backoff {
  minSeconds: number;
  baseSeconds: number;
  maxSeconds: number;
}

export const REFERENCE_BACKOFF: Backoff = { minSeconds: 3, baseSeconds: 8, maxSeconds: 512 };

export interface SessionOptions {
  machineId: string;
  invokeUrl: string;
  wsUrl: string;
  /** State of this identity: kept reports and task scripts. */
  dir: string;
  log: Logger;
  backoff: Backoff;
  /** Runs the tasks (shared by every identity of the process). */
  worker: TaskWorker;
  /** A registered machine: every handshake and call is signed with its key. */
  signing?: SigningIdentity | undefined;
  /** Local address to connect from (a multi-homed host). */
  localAddress?: string | undefined;
  /** CA certificates (PEM) trusted for https:// and wss:// instead of the system's. */
  ca?: Buffer | undefined;
}

const POLL_AFTER_CONNECT_MS = 2000;
const PING_INTERVAL_MS = 120_000;
const MISSED_PINGS_LIMIT = 3;
/** A finished task id is ignored if handed out again within this window. */
const DEDUPE_WINDOW_MS = 120_000;
const CHECK_UPDATE_INTERVAL_MS = 2 * 60 * 60 * 1000;
/** On stop, how long reports may take to reach tatd before they are left on disk. */
const STOP_REPORT_WAIT_MS = 2000;
/** A DescribeTasks that got no answer, or was throttled, is tried again after this (doubling). */
const REPOLL_MIN_MS = 2000;
const REPOLL_MAX_MS = 30_000;

export function reconnectDelayMs(failures: number, b: Backoff): number {
  const upper = Math.min(b.baseSeconds * 2 ** Math.min(failures, 9), b.maxSeconds);
  const lower = Math.min(b.minSeconds, upper);
  return Math.round((lower + Math.random() * (upper - lower)) * 1000);
}

export class AgentSession {
  private readonly client: InvokeClient;
  private readonly outbox: Outbox;
  private readonly executor: Executor;
  private readonly log: Logger;
  /** Task ids running, or finished within the dedupe window. */
  private readonly seen = new Map<string, NodeJS.Timeout | null>();
  private ws: WebSocket | undefined;
  private stopped = false;
  private polling = false;
  private pollAgain = false;
  private repollMs = REPOLL_MIN_MS;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Whole outputs being uploaded (tasks with an OutputCOSBucketUrl); each finish waits for its. */
  private readonly uploads = new Map<string, { abort: AbortController; done: Promise<void> }>();

  constructor(private readonly o: SessionOptions) {
    this.log = o.log.child({
      machineId: o.machineId,
      ...(o.signing ? { instanceId: o.signing.instanceId } : {}),
    });
    this.client = new InvokeClient(o.invokeUrl, () => requestHeaders(o.machineId, o.signing), {
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
      ...(o.ca ? { ca: o.ca } : {}),
    });
    this.outbox = new Outbox(join(o.dir, 'outbox'), this.client, this.log);
    this.executor = o.worker.executor(
      join(o.dir, 'scripts'),
      {
        chunk: (taskId, chunk) =>
          this.outbox.enqueue(taskId, 'UploadTaskLog', { InvocationTaskId: taskId, ...chunk }),
        finish: (taskId, fields, full) =>
          full
            ? this.uploadThenFinish(taskId, fields, full)
            : this.outbox.enqueue(taskId, 'ReportTaskFinish', { InvocationTaskId: taskId, ...fields }),
      },
      // Scripts can tell which machine they run on, even when a fleet shares one host.
      { TATFLOW_MACHINE_ID: o.machineId },
    );
  }

  async start(): Promise<void> {
    // Tasks may run as other users: they must be able to traverse to their script (not list).
    await mkdir(join(this.o.dir, 'scripts'), { recursive: true });
    await chmod(this.o.dir, 0o711);
    await chmod(join(this.o.dir, 'scripts'), 0o711);
    this.outbox.open();
    if (this.o.signing) this.validate();
    this.loop = this.connectLoop();
    this.later(1000, () => this.checkUpdate());
  }

  /** Like the reference agent at start-up: ValidateInstance (signed); the outcome is only logged. */
  private validate(): void {
    void (async () => {
      try {
        await this.client.callWithRetry(
          'ValidateInstance',
          {
            SysName: type() === 'Windows_NT' ? 'Windows' : 'Linux',
            Hostname: hostname(),
            LocalIp: await localIpFor(new URL(this.o.invokeUrl), this.o.localAddress),
          },
          2,
        );
        this.log.info('validate_instance success, work as register instance');
      } catch (e) {
        this.log.warn({ reason: (e as Error).message }, 'validate_instance failed');
      }
    })();
  }

  /**
   * Stops connecting and kills running tasks (they report TERMINATED). Reports get a moment to
   * reach tatd; what is still unconfirmed then stays on disk for the next start.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    for (const t of this.seen.values()) if (t) clearTimeout(t);
    this.ws?.terminate();
    this.wake?.();
    await this.executor.killAll();
    // Uploads get the same moment; the rest are aborted and report why.
    const uploading = [...this.uploads.values()];
    if (uploading.length > 0) {
      await Promise.race([
        Promise.all(uploading.map((u) => u.done)),
        new Promise((r) => setTimeout(r, STOP_REPORT_WAIT_MS).unref()),
      ]);
      for (const u of uploading) u.abort.abort(new Error('the agent is stopping'));
      await Promise.all(uploading.map((u) => u.done));
    }
    await Promise.race([this.outbox.idle(), new Promise((r) => setTimeout(r, STOP_REPORT_WAIT_MS).unref())]);
    this.outbox.close();
    await this.loop;
  }

  /** The whole output goes to the bucket first; the finish then says where, or why not. */
  private uploadThenFinish(taskId: string, fields: FinishFields, full: FullOutput): void {
    const abort = new AbortController();
    const done = uploadOutput(this.client, taskId, full, abort.signal)
      .then((outcome) => {
        if (outcome.OutputUploadCOSErrorInfo)
          this.log.warn({ taskId, reason: outcome.OutputUploadCOSErrorInfo }, 'output upload failed');
        else this.log.info({ taskId, url: outcome.OutputUrl }, 'output uploaded');
        this.outbox.enqueue(taskId, 'ReportTaskFinish', { InvocationTaskId: taskId, ...fields, ...outcome });
      })
      .finally(() => this.uploads.delete(taskId));
    this.uploads.set(taskId, { abort, done });
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private async connectLoop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const opened = await this.connectOnce();
      if (this.stopped) break;
      failures = opened ? 0 : failures + 1;
      const delay = reconnectDelayMs(failures, this.o.backoff);
      this.log.info({ inSeconds: Math.round(delay / 100) / 10, failures }, 'reconnecting');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** One connection, from dial to close. Resolves whether it was ever open. */
  private connectOnce(): Promise<boolean> {
    return new Promise((resolve) => {
      let opened = false;
      let missed = 0;
      let pinger: NodeJS.Timeout | undefined;
      const ws = new WebSocket(this.o.wsUrl, {
        headers: requestHeaders(this.o.machineId, this.o.signing),
        handshakeTimeout: 30_000,
        ...(this.o.localAddress ? { localAddress: this.o.localAddress } : {}),
        ...(this.o.ca ? { ca: this.o.ca } : {}),
      });
      this.ws = ws;
      const ping = () => {
        if (missed >= MISSED_PINGS_LIMIT) {
          this.log.warn('no pong for 3 pings; closing the connection');
          ws.terminate();
          return;
        }
        missed++;
        ws.ping();
      };
      ws.on('open', () => {
        opened = true;
        this.log.info({ url: this.o.wsUrl }, 'connected');
        ping();
        pinger = setInterval(ping, PING_INTERVAL_MS);
        // "avoid record not found": the first poll waits until the server has the connection.
        this.later(POLL_AFTER_CONNECT_MS, () => this.poll());
      });
      ws.on('pong', () => {
        missed = 0;
      });
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        let msg;
        try {
          msg = WsMessage.safeParse(JSON.parse(String(data)));
        } catch {
          return;
        }
        if (!msg.success) return;
        if (msg.data.Type === 'kick') this.poll();
        else if (msg.data.Type === 'CheckUpdate') this.checkUpdate();
      });
      ws.on('unexpected-response', (_req, res) => {
        this.log.warn({ status: res.statusCode }, 'the server refused the connection');
        ws.terminate();
      });
      ws.on('error', (err) => {
        if (!opened) this.log.warn({ reason: err.message }, 'cannot connect');
      });
      ws.on('close', () => {
        if (pinger) clearInterval(pinger);
        if (opened) this.log.info('disconnected');
        resolve(opened);
      });
    });
  }

  /** DescribeTasks, coalescing kicks that arrive while a call is in flight. */
  private poll(): void {
    if (this.stopped) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    void (async () => {
      do {
        this.pollAgain = false;
        try {
          await this.describeTasks();
          this.repollMs = REPOLL_MIN_MS;
        } catch (e) {
          this.log.warn({ reason: (e as Error).message }, 'DescribeTasks failed');
          // The kick that brought us here will not come again: ask again later, unless refused.
          if (e instanceof AgentCallError && e.retryable) {
            this.later(this.repollMs, () => this.poll());
            this.repollMs = Math.min(this.repollMs * 2, REPOLL_MAX_MS);
          }
        }
      } while (this.pollAgain && !this.stopped);
      this.polling = false;
    })();
  }

  private async describeTasks(): Promise<void> {
    const raw = await this.client.callWithRetry('DescribeTasks', {}, 2);
    const parsed = DescribeTasksResponse.safeParse(raw);
    if (!parsed.success)
      throw new Error(`malformed DescribeTasks answer: ${parsed.error.issues[0]?.message}`);
    for (const task of parsed.data.InvocationNormalTaskSet) {
      if (this.seen.has(task.InvocationTaskId)) continue;
      this.seen.set(task.InvocationTaskId, null);
      this.handle(task).catch((err: unknown) =>
        this.log.error({ err, taskId: task.InvocationTaskId }, 'task handling failed'),
      );
    }
    for (const { InvocationTaskId } of parsed.data.InvocationCancelTaskSet)
      if (this.executor.cancel(InvocationTaskId))
        this.log.info({ taskId: InvocationTaskId }, 'task cancelled');
  }

  private async handle(task: AgentTaskMessage): Promise<void> {
    const taskId = task.InvocationTaskId;
    try {
      await this.client.callWithRetry(
        'ReportTaskStart',
        { InvocationTaskId: taskId, TimeStamp: Math.floor(Date.now() / 1000) },
        2,
      );
    } catch (e) {
      // Not run; a later kick may hand it out again.
      this.seen.delete(taskId);
      this.log.warn({ taskId, reason: (e as Error).message }, 'task start refused; not running it');
      return;
    }
    this.log.info({ taskId }, 'task started');
    const result = await this.executor.run(task);
    this.log.info({ taskId, result }, 'task finished');
    if (this.stopped) return;
    const forget = setTimeout(() => this.seen.delete(taskId), DEDUPE_WINDOW_MS);
    forget.unref();
    this.seen.set(taskId, forget);
  }

  private checkUpdate(): void {
    if (this.stopped) return;
    this.client
      .call('CheckUpdate', {
        KernelName: 'Linux',
        KernelRelease: release(),
        KernelVersion: version(),
        Machine: arch() === 'x64' ? 'x86_64' : arch(),
        Version: AGENT_VERSION,
      })
      .then((r) => {
        if (r.NeedUpdate === true)
          this.log.warn('the server offers an agent update; this agent does not self-update');
      })
      .catch((e: unknown) => this.log.debug({ reason: (e as Error).message }, 'CheckUpdate failed'));
    this.later(CHECK_UPDATE_INTERVAL_MS, () => this.checkUpdate());
  }
}
