/**
 * Yields `source` until `signal` aborts, then throws the abort reason at once, whatever the source
 * does. A model stream cannot be trusted to end on abort: Node 20's fetch leaves a body read
 * pending forever when the request is aborted after the body fully arrived, and the openai SDK
 * then neither ends nor throws, so a stopped turn (interrupt, lost lease, shutdown) would hang.
 */
export async function* untilAborted<T>(
  source: AsyncIterable<T>,
  signal: AbortSignal,
): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  let finished = false;
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) {
        finished = true;
        return;
      }
      yield next.value;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    // Not awaited: a stuck source may never settle its return().
    if (!finished) void iterator.return?.()?.catch(() => undefined);
  }
}
