import { detached } from '@taidon/kit';

/** A periodic background task that can be stopped. */
export interface Loop {
  /** Runs the task now (after any run in progress), outside the schedule. */
  runNow(): Promise<void>;
  /** Stops scheduling and waits for a run in progress to finish. */
  stop(): Promise<void>;
}

/**
 * Runs `task` every `intervalMs`, never two runs at once; its timer is
 * unref'd so it never keeps the process alive, and errors go to `onError`
 * rather than stopping the loop. Each run is a background pass with an id of
 * its own (`<name>-<uuid>`), which the calls it makes to other services carry.
 */
export function startLoop(
  name: string,
  intervalMs: number,
  task: () => Promise<unknown>,
  onError: (error: unknown) => void,
): Loop {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const run = (): Promise<void> => {
    running = running.then(async () => {
      if (stopped) return;
      try {
        await detached(task, name);
      } catch (error) {
        onError(error);
      }
    });
    return running;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void run().then(schedule), intervalMs);
    timer.unref();
  };
  void run().then(schedule);
  return {
    runNow: run,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
