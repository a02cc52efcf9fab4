import { describe, expect, it } from 'vitest';
import { DeltaCoalescer, type DeltaType } from '../../../src/daemon/delta-coalescer.js';

/** A window no test can outlast: what is merged is decided by the calls, never by the clock. */
const LONG_WINDOW_MS = 60_000;

function recorder() {
  const published: { type: DeltaType; text: string }[] = [];
  return {
    published,
    publish: async (part: { type: DeltaType; text: string }) => void published.push(part),
  };
}

describe('DeltaCoalescer (B14: deltas merged for a short window)', () => {
  it('publishes the first delta at once and merges the rest of the window into one part', async () => {
    const { published, publish } = recorder();
    const coalescer = new DeltaCoalescer(publish, { windowMs: LONG_WINDOW_MS });
    const pieces = Array.from({ length: 200 }, (_, index) => `t${index} `);
    for (const piece of pieces) await coalescer.add('TEXT', piece);
    expect(published).toEqual([{ type: 'TEXT', text: 't0 ' }]);
    await coalescer.flush();
    expect(published).toHaveLength(2);
    expect(published.map((part) => part.text).join('')).toBe(pieces.join(''));
  });

  it('publishes a merged part once it reaches maxBytes (UTF-8), window or not', async () => {
    const { published, publish } = recorder();
    const coalescer = new DeltaCoalescer(publish, { windowMs: LONG_WINDOW_MS, maxBytes: 8 });
    await coalescer.add('TEXT', 'a');
    await coalescer.add('TEXT', 'ééé'); // 6 bytes
    expect(published).toHaveLength(1);
    await coalescer.add('TEXT', 'é'); // 8 bytes in all: published now
    expect(published.map((part) => part.text)).toEqual(['a', 'éééé']);
  });

  it('keeps the order of types: a reasoning delta after text publishes the text first', async () => {
    const { published, publish } = recorder();
    const coalescer = new DeltaCoalescer(publish, { windowMs: LONG_WINDOW_MS });
    await coalescer.add('REASONING', 'think ');
    await coalescer.add('REASONING', 'more');
    await coalescer.add('TEXT', 'Hel');
    await coalescer.add('TEXT', 'lo');
    await coalescer.add('REASONING', '!');
    await coalescer.flush();
    expect(published).toEqual([
      { type: 'REASONING', text: 'think ' },
      { type: 'REASONING', text: 'more' },
      { type: 'TEXT', text: 'Hello' },
      { type: 'REASONING', text: '!' },
    ]);
  });

  it('publishes a held delta when the window ends, without a further call', async () => {
    let onPublish: () => void = () => undefined;
    const published: string[] = [];
    const coalescer = new DeltaCoalescer(
      async (part) => {
        published.push(part.text);
        onPublish();
      },
      { windowMs: 5 },
    );
    await coalescer.add('TEXT', 'first');
    const second = new Promise<void>((resolve) => (onPublish = resolve));
    await coalescer.add('TEXT', 'held');
    await second;
    expect(published).toEqual(['first', 'held']);
  });

  it('with a zero window publishes every delta as it comes', async () => {
    const { published, publish } = recorder();
    const coalescer = new DeltaCoalescer(publish, { windowMs: 0 });
    for (const piece of ['a', 'b', 'c']) await coalescer.add('TEXT', piece);
    expect(published.map((part) => part.text)).toEqual(['a', 'b', 'c']);
  });

  it('a failed publish is thrown by the next call; close drops what is held', async () => {
    const published: string[] = [];
    const coalescer = new DeltaCoalescer(
      async (part) => {
        if (part.text === 'boom') throw new Error('lease lost');
        published.push(part.text);
      },
      { windowMs: LONG_WINDOW_MS, maxBytes: 4 },
    );
    await expect(coalescer.add('TEXT', 'boom')).rejects.toThrow('lease lost');
    await expect(coalescer.add('TEXT', 'x')).rejects.toThrow('lease lost');
    await expect(coalescer.flush()).rejects.toThrow('lease lost');

    const dropped = new DeltaCoalescer(async (part) => void published.push(part.text), {
      windowMs: LONG_WINDOW_MS,
    });
    await dropped.add('TEXT', 'sent');
    await dropped.add('TEXT', 'held');
    await dropped.close();
    await dropped.flush();
    expect(published).toEqual(['sent']);
  });
});
