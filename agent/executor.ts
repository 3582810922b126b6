// Running one task on this machine (docs/agent-protocol-reference.md, "Running a task"): the script
// in a file, bash with the profile lines, as the task's user in its working directory, stdin
// closed, stderr merged into stdout, in its own process group; Timeout and cancel kill the whole
// group. A task with an OutputCOSBucketUrl also has its whole output written to `<id>.log` next to
// its script, handed over with the finish for the upload.

import { spawn, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  chownSync,
  closeSync,
  constants as fsConstants,
  createWriteStream,
  mkdirSync,
  openSync,
  statSync,
  unlinkSync,
  writeFileSync,
  type WriteStream,
} from 'node:fs';
import type { Readable } from 'node:stream';
import { unlink } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { AgentResult } from '../tat/status.js';
import { isBase64 } from '../tat/validate.js';
import type { AgentTaskMessage } from '../tat/agent-protocol.js';
import { OutputCollector, type OutputChunk } from './output.js';
import { lookupUser, systemEnvironment, type LocalUser } from './users.js';

export interface FinishFields {
  TimeStamp: number;
  Result: AgentResult;
  ErrorInfo: string;
  ExitCode: number;
  FinalLogIndex: number | null;
  OutputUrl: string;
  OutputUploadCOSErrorInfo: string;
}

/** The whole output of a task with an OutputCOSBucketUrl, in a file, to be uploaded. */
export interface FullOutput {
  path: string;
  bucketUrl: string;
  keyPrefix: string;
  /** Epoch ms by which the upload should be done: Timeout counts the upload too. */
  deadline: number;
  /** Why the file is not the whole output (a write failed); it is then not uploaded. */
  writeError?: string;
}

/** Where a running task's reports go (durably, in order). */
export interface TaskSink {
  chunk(taskId: string, chunk: OutputChunk): void;
  /** `full`: the whole output, for a task with an OutputCOSBucketUrl; the receiver removes the file. */
  finish(taskId: string, fields: FinishFields, full?: FullOutput): void;
}

const unixSeconds = () => Math.floor(Date.now() / 1000);

/** After the process exits, output still in the pipe is read for at most this long. */
const DELAY_AFTER_CHILD_EXIT_MS = 1000;
const REPORT_INTERVAL_MS = 1000;

function findShell(): string {
  for (const name of ['bash', 'sh'])
    for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
      const p = join(dir, name);
      try {
        accessSync(p, fsConstants.X_OK);
        return p;
      } catch {
        // keep looking
      }
    }
  return '/bin/sh';
}

const SHELL = findShell();
// The login profile (the reference agent's order: /etc/profile, then ~/.bash_profile, or ~/.bashrc
// when there is none or it fails), then the script in a fresh shell that replaces this one.
// TATFLOW_TASK_PATH_PREFIX (in the agent's environment) goes in front of the PATH the profile set:
// site tools outside the login PATH, or stand-ins for system tools in tests.
export const PROFILE = SHELL.endsWith('bash')
  ? '. /etc/profile 2>/dev/null; . ~/.bash_profile 2>/dev/null || . ~/.bashrc 2>/dev/null; ' +
    '[ -n "$TATFLOW_TASK_PATH_PREFIX" ] && PATH="$TATFLOW_TASK_PATH_PREFIX:$PATH"; exec '
  : '';

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

class StartFailed extends Error {}

interface Prepared {
  user: LocalUser;
  scriptPath: string;
  /** The whole-output file, open, for a task with an OutputCOSBucketUrl. */
  outputFile?: { path: string; fd: number };
}

/** Writes the whole output to its file, holding the pipe back while the disk catches up. */
class OutputFile {
  private readonly stream: WriteStream;
  private readonly paused = new Set<Readable>();
  error: string | undefined;

  constructor(
    readonly path: string,
    fd: number,
  ) {
    this.stream = createWriteStream(path, { fd });
    this.stream.on('drain', () => this.resumeAll());
    this.stream.on('error', (e) => {
      this.error ??= e.message;
      this.resumeAll();
    });
  }

  private resumeAll(): void {
    for (const s of this.paused) s.resume();
    this.paused.clear();
  }

  write(data: Buffer, source: Readable): void {
    if (this.error !== undefined || this.stream.destroyed) return;
    if (!this.stream.write(data)) {
      source.pause();
      this.paused.add(source);
    }
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.stream.closed) return resolve();
      this.stream.once('close', () => resolve());
      this.stream.end();
    });
  }
}

async function prepare(task: AgentTaskMessage, scriptDir: string): Promise<Prepared> {
  if (!isBase64(task.Command)) throw new StartFailed('InvalidCommand: the command is not valid base64');
  const script = Buffer.from(task.Command, 'base64');
  const user = await lookupUser(task.Username);
  if (!user) throw new StartFailed(`InvalidUser: user \`${task.Username}\` not exists`);
  let isDir = false;
  try {
    isDir = task.WorkingDirectory !== '' && statSync(task.WorkingDirectory).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir)
    throw new StartFailed(
      `InvalidWorkingDirectory: working directory \`${task.WorkingDirectory}\` not exists`,
    );
  if (task.CommandType !== 'SHELL')
    throw new StartFailed(`ScriptStoreFailed: invalid \`${task.CommandType}\` type in Unix.`);
  const scriptPath = join(scriptDir, `${task.InvocationTaskId}.sh`);
  try {
    // Small synchronous writes: cheaper than four thread-pool round trips per task.
    mkdirSync(scriptDir, { recursive: true, mode: 0o711 });
    writeFileSync(scriptPath, script, { mode: 0o700 });
    chmodSync(scriptPath, 0o700);
    // The script may hold substituted secrets: only the task's user may read it.
    if (process.getuid?.() === 0 && user.uid !== 0) chownSync(scriptPath, user.uid, user.gid);
  } catch (e) {
    throw new StartFailed(`ScriptStoreFailed: ${(e as Error).message}`);
  }
  if (!task.OutputCOSBucketUrl) return { user, scriptPath };
  const outputPath = join(scriptDir, `${task.InvocationTaskId}.log`);
  try {
    return { user, scriptPath, outputFile: { path: outputPath, fd: openSync(outputPath, 'w', 0o600) } };
  } catch (e) {
    try {
      unlinkSync(scriptPath);
    } catch {
      // best effort
    }
    throw new StartFailed(`OutputFileCreateFailed: ${(e as Error).message}`);
  }
}

/** A prepared task that will not run: its whole-output file goes too. */
function discardOutputFile(p: Prepared): void {
  if (!p.outputFile) return;
  try {
    closeSync(p.outputFile.fd);
  } catch {
    // already closed
  }
  try {
    unlinkSync(p.outputFile.path);
  } catch {
    // already gone
  }
}

function environmentFor(user: LocalUser): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...systemEnvironment(),
    SHELL: user.shell || SHELL,
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    USERNAME: user.name,
    MAIL: `/var/spool/mail/${user.name}`,
    TERM: 'xterm-color',
  };
}

export class TaskExecutor {
  private readonly running = new Map<string, { child: ChildProcess; cancelled: boolean }>();
  /** Tasks being prepared (not spawned yet), and which of them a cancel already reached. */
  private readonly preparing = new Map<string, boolean>();

  constructor(
    private readonly scriptDir: string,
    private readonly sink: TaskSink,
    /** Variables every task sees on top of the user's environment (TATFLOW_MACHINE_ID). */
    private readonly env: Record<string, string> = {},
  ) {}

  /** Kills a running task's process group; its result becomes TERMINATED. */
  cancel(taskId: string): boolean {
    if (this.preparing.has(taskId)) {
      this.preparing.set(taskId, true);
      return true;
    }
    const r = this.running.get(taskId);
    if (!r) return false;
    r.cancelled = true;
    killGroup(r.child);
    return true;
  }

  /** Runs the task to its end and reports it (after ReportTaskStart was accepted). */
  async run(task: AgentTaskMessage): Promise<AgentResult> {
    let prepared: Prepared;
    this.preparing.set(task.InvocationTaskId, false);
    try {
      prepared = await prepare(task, this.scriptDir);
    } catch (e) {
      this.preparing.delete(task.InvocationTaskId);
      const info = e instanceof StartFailed ? e.message : `TaskSpawnFailed: ${(e as Error).message}`;
      this.finishStartFailed(task.InvocationTaskId, info);
      return 'START_FAILED';
    }
    try {
      return await this.execute(task, prepared);
    } finally {
      this.preparing.delete(task.InvocationTaskId);
      unlink(prepared.scriptPath).catch(() => undefined);
    }
  }

  private finishStartFailed(taskId: string, errorInfo: string): void {
    this.sink.finish(taskId, {
      TimeStamp: unixSeconds(),
      Result: 'START_FAILED',
      ErrorInfo: errorInfo,
      ExitCode: -1,
      FinalLogIndex: null,
      OutputUrl: '',
      OutputUploadCOSErrorInfo: '',
    });
  }

  private async execute(task: AgentTaskMessage, p: Prepared): Promise<AgentResult> {
    const taskId = task.InvocationTaskId;
    const sameUser = process.getuid?.() === p.user.uid;
    let child: ChildProcess;
    try {
      child = spawn(SHELL, ['-c', `exec 2>&1; ${PROFILE}${SHELL} ${quote(p.scriptPath)}`], {
        cwd: task.WorkingDirectory,
        env: { ...environmentFor(p.user), ...this.env },
        detached: true, // own session and process group, so a kill reaches every child
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(sameUser ? {} : { uid: p.user.uid, gid: p.user.gid }),
      });
    } catch (e) {
      discardOutputFile(p);
      this.finishStartFailed(taskId, `TaskSpawnFailed: ${(e as Error).message}`);
      return 'START_FAILED';
    }
    const spawnError = await new Promise<Error | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', (err) => resolve(err));
    });
    if (spawnError) {
      discardOutputFile(p);
      this.finishStartFailed(taskId, `TaskSpawnFailed: ${spawnError.message}`);
      return 'START_FAILED';
    }
    const deadline = Date.now() + task.TimeOut * 1000;

    const state = { child, cancelled: false };
    this.running.set(taskId, state);
    const cancelledEarly = this.preparing.get(taskId) === true;
    this.preparing.delete(taskId);
    if (cancelledEarly) this.cancel(taskId);
    const output = new OutputCollector((chunk) => this.sink.chunk(taskId, chunk));
    const file = p.outputFile ? new OutputFile(p.outputFile.path, p.outputFile.fd) : undefined;
    for (const source of [child.stdout!, child.stderr!])
      source.on('data', (d: Buffer) => {
        output.write(d);
        file?.write(d, source);
      });
    const ticker = setInterval(() => output.tick(), REPORT_INTERVAL_MS);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, task.TimeOut * 1000);

    const exit = await new Promise<{ code: number | null }>((resolve) => {
      child.once('exit', (code) => resolve({ code }));
    });
    // Background processes may hold the pipe open: read on for a moment, then stop.
    await Promise.race([
      new Promise<void>((resolve) => {
        if (child.stdout!.readableEnded) resolve();
        else child.stdout!.once('end', () => resolve());
      }),
      new Promise<void>((resolve) => setTimeout(resolve, DELAY_AFTER_CHILD_EXIT_MS).unref()),
    ]);
    clearTimeout(timer);
    clearInterval(ticker);
    child.stdout!.destroy();
    child.stderr!.destroy();
    this.running.delete(taskId);

    const result: AgentResult = timedOut
      ? 'TIMEOUT'
      : state.cancelled
        ? 'TERMINATED'
        : exit.code === 0
          ? 'SUCCESS'
          : 'FAILED';
    const finalLogIndex = output.finish();
    await file?.close();
    this.sink.finish(
      taskId,
      {
        TimeStamp: unixSeconds(),
        Result: result,
        ErrorInfo: '',
        ExitCode: timedOut || state.cancelled || exit.code === null ? -1 : exit.code,
        FinalLogIndex: finalLogIndex,
        OutputUrl: '',
        OutputUploadCOSErrorInfo: '',
      },
      file && {
        path: file.path,
        bucketUrl: task.OutputCOSBucketUrl,
        keyPrefix: task.OutputCOSKeyPrefix,
        deadline,
        ...(file.error !== undefined ? { writeError: file.error } : {}),
      },
    );
    return result;
  }

  /** Kills every running task (agent shutdown); they report TERMINATED. Resolves when all ended. */
  async killAll(): Promise<void> {
    const ended = [...this.running.values()].map(
      (r) =>
        new Promise<void>((resolve) => {
          if (r.child.exitCode !== null || r.child.signalCode !== null) resolve();
          else r.child.once('exit', () => resolve());
        }),
    );
    for (const id of [...this.running.keys()]) this.cancel(id);
    await Promise.all(ended);
    // execute() still reads the pipe for up to a second after the exit, then reports.
    while (this.running.size > 0) await new Promise((r) => setTimeout(r, 50));
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
