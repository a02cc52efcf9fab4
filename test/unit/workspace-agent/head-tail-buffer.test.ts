import { describe, expect, it } from 'vitest';

import {
  HeadTailBuffer,
  LINE_TRUNCATED_MARKER,
  MAX_HEAD_BYTES,
  MAX_LINE_BYTES,
  MAX_TAIL_BYTES,
  omissionMarker,
} from '../../../src/workspace/agent/head-tail-buffer.js';

/** Width of a numbered line, newline included, so byte offsets are easy to reason about. */
const LINE_WIDTH = 8;
const numberedLine = (n: number) => `${String(n).padStart(LINE_WIDTH - 1, '0')}\n`;
const numberedLines = (from: number, to: number) => {
  let text = '';
  for (let n = from; n < to; n += 1) text += numberedLine(n);
  return text;
};
/** `bytes` of short ASCII lines (no line near MAX_LINE_BYTES). */
const shortLines = (bytes: number, letter = 'a') => {
  const line = `${letter.repeat(63)}\n`;
  return line.repeat(Math.floor(bytes / line.length)) + letter.repeat(bytes % line.length);
};

function writeInChunks(buffer: HeadTailBuffer, text: string, chunkSize: number): void {
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length; at += chunkSize)
    buffer.write(bytes.subarray(at, at + chunkSize));
}

describe('HeadTailBuffer limits', () => {
  it('passes short output through unchanged', () => {
    const buffer = new HeadTailBuffer();
    buffer.write('hello\n');
    buffer.write('world\n');
    expect(buffer.snapshot()).toEqual({
      output: 'hello\nworld\n',
      truncated: false,
      totalBytes: 12,
      omittedBytes: 0,
      truncatedLines: 0,
    });
  });

  it('keeps exactly MAX_HEAD_BYTES whole and untruncated', () => {
    const text = shortLines(MAX_HEAD_BYTES);
    expect(Buffer.byteLength(text)).toBe(MAX_HEAD_BYTES);
    const buffer = new HeadTailBuffer();
    writeInChunks(buffer, text, 1000);
    const snapshot = buffer.snapshot();
    expect(snapshot.truncated).toBe(false);
    expect(snapshot.output).toBe(text);
  });

  it('switches to head + marker + tail at MAX_HEAD_BYTES + 1, omitting nothing yet', () => {
    const head = shortLines(MAX_HEAD_BYTES);
    const buffer = new HeadTailBuffer();
    buffer.write(head);
    buffer.write('Z');
    const snapshot = buffer.snapshot();
    expect(snapshot.truncated).toBe(true);
    expect(snapshot.omittedBytes).toBe(0);
    expect(snapshot.output).toBe(`${head}${omissionMarker(0)}Z`);
  });

  it('keeps the first and last bytes and counts the ones dropped between', () => {
    const lineCount = 6000;
    const text = numberedLines(0, lineCount);
    const total = lineCount * LINE_WIDTH;
    const omitted = total - MAX_HEAD_BYTES - MAX_TAIL_BYTES;
    // Odd chunk sizes make the ring wrap in the middle of writes; one write covers the bulk path.
    for (const chunkSize of [1, 777, 5000, total]) {
      const buffer = new HeadTailBuffer();
      writeInChunks(buffer, text, chunkSize);
      const snapshot = buffer.snapshot();
      expect(snapshot.truncated).toBe(true);
      expect(snapshot.totalBytes).toBe(total);
      expect(snapshot.omittedBytes).toBe(omitted);
      const headLines = MAX_HEAD_BYTES / LINE_WIDTH;
      const tailLines = MAX_TAIL_BYTES / LINE_WIDTH;
      expect(snapshot.output).toBe(
        numberedLines(0, headLines) +
          omissionMarker(omitted) +
          numberedLines(lineCount - tailLines, lineCount),
      );
    }
  });

  it('omits exactly one byte at MAX_HEAD_BYTES + MAX_TAIL_BYTES + 1', () => {
    const buffer = new HeadTailBuffer();
    const head = shortLines(MAX_HEAD_BYTES, 'h');
    const tail = shortLines(MAX_TAIL_BYTES, 't');
    buffer.write(head);
    buffer.write('m');
    buffer.write(tail);
    const snapshot = buffer.snapshot();
    expect(snapshot.omittedBytes).toBe(1);
    expect(snapshot.output).toBe(`${head}${omissionMarker(1)}${tail}`);
  });
});

describe('HeadTailBuffer long lines', () => {
  it('keeps a line of exactly MAX_LINE_BYTES', () => {
    const line = 'x'.repeat(MAX_LINE_BYTES);
    const buffer = new HeadTailBuffer();
    buffer.write(`${line}\nnext\n`);
    expect(buffer.snapshot()).toMatchObject({ output: `${line}\nnext\n`, truncated: false });
  });

  it('cuts a line one byte longer and keeps the lines after it', () => {
    const buffer = new HeadTailBuffer();
    buffer.write(`${'x'.repeat(MAX_LINE_BYTES + 1)}\nnext\n`);
    expect(buffer.snapshot()).toMatchObject({
      output: `${'x'.repeat(MAX_LINE_BYTES)}${LINE_TRUNCATED_MARKER}\nnext\n`,
      truncated: true,
      truncatedLines: 1,
    });
  });

  it('cuts a long line that arrives over many writes, and one without a final newline', () => {
    const buffer = new HeadTailBuffer();
    writeInChunks(
      buffer,
      `start\n${'y'.repeat(5 * MAX_LINE_BYTES)}\nmiddle\n${'z'.repeat(3000)}`,
      300,
    );
    expect(buffer.snapshot()).toMatchObject({
      output:
        `start\n${'y'.repeat(MAX_LINE_BYTES)}${LINE_TRUNCATED_MARKER}\nmiddle\n` +
        `${'z'.repeat(MAX_LINE_BYTES)}${LINE_TRUNCATED_MARKER}`,
      truncatedLines: 2,
    });
  });

  it('counts a cut line as truncated even when the output is short', () => {
    const buffer = new HeadTailBuffer();
    buffer.write('q'.repeat(MAX_LINE_BYTES + 10));
    expect(buffer.snapshot().truncated).toBe(true);
  });
});

describe('HeadTailBuffer and multi-byte UTF-8', () => {
  it('cuts a long line on a character boundary', () => {
    const euro = '€'; // 3 bytes: MAX_LINE_BYTES is not a multiple of 3
    const buffer = new HeadTailBuffer();
    buffer.write(`${euro.repeat(1000)}\n`);
    const keptChars = Math.floor(MAX_LINE_BYTES / 3);
    expect(buffer.snapshot().output).toBe(`${euro.repeat(keptChars)}${LINE_TRUNCATED_MARKER}\n`);
  });

  it('joins a character split across writes', () => {
    const bytes = Buffer.from('a€😀b', 'utf8');
    const buffer = new HeadTailBuffer();
    for (const byte of bytes) buffer.write(Uint8Array.of(byte));
    expect(buffer.snapshot().output).toBe('a€😀b');
  });

  it('does not let another stream break a character in the middle', () => {
    for (const char of ['é', '€', '😀']) {
      const bytes = Buffer.from(char, 'utf8');
      for (let split = 1; split < bytes.length; split += 1) {
        const buffer = new HeadTailBuffer();
        buffer.write(bytes.subarray(0, split), 'stdout');
        buffer.write('E', 'stderr');
        buffer.write(bytes.subarray(split), 'stdout');
        expect(buffer.snapshot().output).toBe(`E${char}`);
      }
    }
  });

  it('keeps a character that straddles head and tail when nothing was omitted', () => {
    const head = shortLines(MAX_HEAD_BYTES - 1);
    const buffer = new HeadTailBuffer();
    buffer.write(`${head}€b`);
    const { output, truncated, omittedBytes } = buffer.snapshot();
    expect({ truncated, omittedBytes }).toEqual({ truncated: true, omittedBytes: 0 });
    expect(output).toBe(`${head}${omissionMarker(0)}€b`);
  });

  it('drops the pieces of characters cut by the seam and counts them as omitted', () => {
    const buffer = new HeadTailBuffer();
    // 62-byte lines of 3-byte characters: the head ends 16 bytes into a line and the tail starts
    // 46 bytes into one, both inside a character.
    const line = `${'€'.repeat(20)}x\n`;
    const text = line.repeat(2000);
    buffer.write(text);
    const { output, omittedBytes } = buffer.snapshot();
    expect(output).not.toContain('\uFFFD');
    const [head, tail] = output.split(omissionMarker(omittedBytes));
    expect(head).toBeDefined();
    expect(tail).toBeDefined();
    expect(text.startsWith(head ?? '')).toBe(true);
    expect(text.endsWith(tail ?? '')).toBe(true);
    const shownBytes = Buffer.byteLength(head ?? '') + Buffer.byteLength(tail ?? '');
    expect(omittedBytes).toBe(Buffer.byteLength(text) - shownBytes);
    expect(omittedBytes).toBeGreaterThan(Buffer.byteLength(text) - MAX_HEAD_BYTES - MAX_TAIL_BYTES);
  });

  it('renders a character left incomplete at the end as U+FFFD', () => {
    const buffer = new HeadTailBuffer();
    buffer.write(Buffer.from('ok€', 'utf8').subarray(0, 3));
    expect(buffer.snapshot().output).toBe('ok');
    buffer.end();
    expect(buffer.snapshot().output).toBe('ok\uFFFD');
  });
});
