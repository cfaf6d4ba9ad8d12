const queued: (() => void)[] = [];
let channel: MessageChannel | null = null;

/**
 * Calls `then` in a task of its own, after the current one: what a key press
 * or click changes on the page goes here once its request has left (a run's
 * own view waits longer, for the reply: see useRunner). When an
 * input event's handler changes the page, Chromium holds every later task
 * (the reply to that request included) until the frame showing the change
 * was drawn (DeferRendererTasksAfterInput); a change made in a later task
 * holds nothing. Callbacks queued in the same task run together, in order,
 * so React renders their updates once. A posted message, not a timer: a
 * hidden page's timers are throttled.
 */
export function afterThisTask(then: () => void): void {
  queued.push(then);
  if (queued.length > 1) return;
  if (!channel) {
    channel = new MessageChannel();
    channel.port1.onmessage = () => {
      for (const callback of queued.splice(0)) {
        // One that throws is reported as uncaught and does not keep the others from running.
        try {
          callback();
        } catch (error) {
          reportError(error);
        }
      }
    };
  }
  channel.port2.postMessage(null);
}
