/**
 * The end of every server command: the ready line on stdout (other programs
 * wait for it), then run until SIGTERM or SIGINT, close once and exit 0.
 */
export function serveUntilSignal(ready: object, close: () => Promise<void>): void {
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await close();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
