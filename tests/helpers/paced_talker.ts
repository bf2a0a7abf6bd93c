/**
 * Test helper: a talker that keeps at most `window` lines ahead of a reader
 * that keeps up. The slow-consumer tests use it so that the only client
 * falling behind is the stuck one, not the test's own listener (the test
 * process runs both the talker and the listener).
 *
 * @module
 */

/** A running talker; call `received(n)` as the listener gets line n - 1. */
export interface PacedTalker {
  /** Settles when every line was sent. */
  done: Promise<void>;
  /** Tells the talker that the listener has received `count` lines. */
  received(count: number): void;
}

/**
 * Sends `lines` lines made by `line(i)` through `send`, never more than
 * `window` ahead of what `received()` reported.
 */
export function startPacedTalker(
  send: (text: string) => void | Promise<void>,
  lines: number,
  window: number,
  line: (i: number) => string,
): PacedTalker {
  let received = 0;
  let wake = () => {};
  const done = (async () => {
    for (let i = 0; i < lines; i++) {
      while (i - received >= window) {
        const { promise, resolve } = Promise.withResolvers<void>();
        wake = resolve;
        await promise;
      }
      await send(line(i));
    }
  })();
  return {
    done,
    received(count) {
      received = count;
      wake();
    },
  };
}
