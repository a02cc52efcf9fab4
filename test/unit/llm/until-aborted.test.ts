import { describe, expect, it } from 'vitest';
import { untilAborted } from '../../../src/llm/until-aborted.js';

/** A stream that yields its items, then never settles again: it ignores any abort. */
async function* deaf<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
  await new Promise<never>(() => {});
}

async function* finite<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

describe('untilAborted (a turn stops even when its model stream ignores the abort)', () => {
  it('passes a stream through until it ends', async () => {
    const out: number[] = [];
    for await (const item of untilAborted(finite([1, 2, 3]), new AbortController().signal)) {
      out.push(item);
    }
    expect(out).toEqual([1, 2, 3]);
  });

  it('throws the abort reason while the stream is stuck waiting', async () => {
    const controller = new AbortController();
    const reason = new Error('turn stopped: lost');
    const out: string[] = [];
    const consumed = (async () => {
      for await (const item of untilAborted(deaf(['a', 'b']), controller.signal)) {
        out.push(item);
        if (out.length === 2) queueMicrotask(() => controller.abort(reason));
      }
    })();
    await expect(consumed).rejects.toBe(reason);
    expect(out).toEqual(['a', 'b']);
  });

  it('throws at once when the signal aborted while the consumer was busy', async () => {
    const controller = new AbortController();
    const reason = new Error('interrupt');
    const out: string[] = [];
    const consumed = (async () => {
      for await (const item of untilAborted(finite(['a', 'b', 'c']), controller.signal)) {
        out.push(item);
        controller.abort(reason);
      }
    })();
    await expect(consumed).rejects.toBe(reason);
    expect(out).toEqual(['a']);
  });
});
