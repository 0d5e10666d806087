/**
 * Runs `pass` at once and then again after each pass ends, waiting the
 * milliseconds the pass resolves to (a rejected pass waits `afterFailureMs`;
 * passes log their own failures). Passes never overlap. `stop` lets the pass
 * in progress finish and schedules no more.
 */
export function startRepeating(pass: () => Promise<number>, afterFailureMs: number): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = pass()
      .catch(() => afterFailureMs)
      .then((delayMs) => {
        if (!stopped) timer = setTimeout(tick, delayMs);
      });
  };
  timer = setTimeout(tick, 0);
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
