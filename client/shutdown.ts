// Graceful stop on SIGINT/SIGTERM: run the closer once, then exit.

export function onShutdown(close: () => Promise<void>): void {
  let closing = false;
  const stop = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    close()
      .then(() => process.exit(0))
      .catch((e: unknown) => {
        process.stderr.write(`tatflow: error while stopping on ${signal}: ${String(e)}\n`);
        process.exit(1);
      });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
