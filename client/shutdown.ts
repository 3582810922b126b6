// Graceful stop on SIGINT, SIGTERM and SIGHUP (a closed terminal sends SIGHUP, whose default would
// end the process at once and leave what it started running): run the closer once, then exit. A
// stop is bounded: when the closer has not finished within `boundMs`, the process exits anyway
// (with status 1), so a hung close never leaves a process holding its port and its agents.

export function onShutdown(close: () => Promise<void>, boundMs = 15_000): void {
  let closing = false;
  const stop = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    setTimeout(() => {
      process.stderr.write(`tatflow: did not stop within ${boundMs / 1000} s of ${signal}; exiting\n`);
      process.exit(1);
    }, boundMs).unref();
    close()
      .then(() => process.exit(0))
      .catch((e: unknown) => {
        process.stderr.write(`tatflow: error while stopping on ${signal}: ${String(e)}\n`);
        process.exit(1);
      });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', stop);
}
