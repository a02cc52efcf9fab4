/**
 * Bounded capture of a process's combined stdout+stderr for a language model: the first
 * MAX_HEAD_BYTES (how the command started, the first error) and the last MAX_TAIL_BYTES (how it
 * ended) survive, the middle is counted but dropped, so memory stays fixed however much a command
 * prints. Lines longer than MAX_LINE_BYTES are cut as they stream in, because one minified file or
 * progress bar would otherwise fill the whole budget.
 *
 * Everything is handled as bytes (the limits are byte limits) but the rendered output never
 * contains a broken UTF-8 character: a character split between two chunks of the same stream is
 * held back until it completes, line cuts back off to a character boundary, and characters split
 * by the head/tail seam are dropped and counted as omitted.
 */

import { incompleteSuffixLength, isContinuationByte, leadingContinuationLength } from './utf8.js';

/** Bytes kept from the start of the output. */
export const MAX_HEAD_BYTES = 16 * 1024;
/** Bytes kept from the end of the output. */
export const MAX_TAIL_BYTES = 16 * 1024;
/** Longest line kept whole; the rest of the line is replaced by LINE_TRUNCATED_MARKER. */
export const MAX_LINE_BYTES = 2048;
/** Appended where a long line was cut (it is not counted towards the line's byte limit). */
export const LINE_TRUNCATED_MARKER = ' … [line truncated]';

/** Placed between head and tail when the output went past the head. */
export const omissionMarker = (omittedBytes: number): string =>
  `\n… [${omittedBytes} bytes omitted] …\n`;

const NEWLINE = 0x0a;
const LINE_TRUNCATED_MARKER_BYTES = Buffer.from(LINE_TRUNCATED_MARKER, 'utf8');
/** Stream name used by write() when the caller has only one stream. */
const DEFAULT_STREAM = 'output';

export interface HeadTailSnapshot {
  /** Head, omission marker, tail; the whole output when it fitted in the head. */
  output: string;
  /**
   * True when the output went past MAX_HEAD_BYTES (so it is shown as head + marker + tail, even if
   * the tail still held the rest) or when a line was cut.
   */
  truncated: boolean;
  /** Bytes the process wrote, before any cutting. */
  totalBytes: number;
  /** Bytes of the (line-cut) stream that are in neither head nor tail. */
  omittedBytes: number;
  /** How many lines were cut at MAX_LINE_BYTES. */
  truncatedLines: number;
}

export class HeadTailBuffer {
  private readonly head = Buffer.alloc(MAX_HEAD_BYTES);
  private headLength = 0;
  /** Ring of the latest bytes past the head; allocated on first overflow. */
  private tail: Buffer | undefined;
  /** Next write position in the ring. */
  private tailPosition = 0;
  private tailLength = 0;

  /** Bytes stored (after line cutting): head + tail + dropped middle. */
  private storedBytes = 0;
  private totalBytes = 0;
  private truncatedLines = 0;

  /** Bytes of the current line kept so far (shared by all streams: they form one output). */
  private lineBytes = 0;
  /** The current line was cut; drop bytes until its newline. */
  private droppingLine = false;
  /** Per stream, the first bytes of a character whose remaining bytes are still to come. */
  private readonly pending = new Map<string, Buffer>();

  /**
   * Append a chunk. Give each source its own `stream` name (e.g. 'stdout', 'stderr') so that a
   * character split across two chunks of one stream is not broken by a chunk of the other.
   */
  write(chunk: Uint8Array | string, stream: string = DEFAULT_STREAM): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
    if (bytes.length === 0) return;
    this.totalBytes += bytes.length;

    const carried = this.pending.get(stream);
    const data = carried ? Buffer.concat([carried, bytes]) : bytes;
    const incomplete = incompleteSuffixLength(data);
    if (incomplete > 0)
      this.pending.set(stream, Buffer.from(data.subarray(data.length - incomplete)));
    else this.pending.delete(stream);
    this.writeComplete(data.subarray(0, data.length - incomplete));
  }

  /**
   * Flush characters left incomplete when a stream ended; they are kept as they are and shown as
   * U+FFFD, which is what a decoder does with a truncated sequence.
   */
  end(): void {
    for (const bytes of this.pending.values()) this.writeComplete(bytes);
    this.pending.clear();
  }

  snapshot(): HeadTailSnapshot {
    const head = this.head.subarray(0, this.headLength);
    const base = { totalBytes: this.totalBytes, truncatedLines: this.truncatedLines };
    if (this.storedBytes <= MAX_HEAD_BYTES) {
      return {
        ...base,
        output: head.toString('utf8'),
        truncated: this.truncatedLines > 0,
        omittedBytes: 0,
      };
    }

    let tail = this.orderedTail();
    let omittedBytes = this.storedBytes - this.headLength - this.tailLength;
    // Characters split by the seam: if head and tail are contiguous, move the split character
    // into the tail so it renders whole; otherwise its pieces are meaningless and are dropped.
    const headCut = incompleteSuffixLength(head);
    const headShown = head.subarray(0, head.length - headCut);
    if (omittedBytes === 0) {
      tail = Buffer.concat([head.subarray(head.length - headCut), tail]);
    } else {
      omittedBytes += headCut;
      const tailCut = leadingContinuationLength(tail);
      tail = tail.subarray(tailCut);
      omittedBytes += tailCut;
    }

    return {
      ...base,
      output: `${headShown.toString('utf8')}${omissionMarker(omittedBytes)}${tail.toString('utf8')}`,
      truncated: true,
      omittedBytes,
    };
  }

  /** Applies the line limit to bytes that end on a character boundary, then stores them. */
  private writeComplete(data: Buffer): void {
    let runStart = 0; // start of bytes accepted but not yet stored
    let position = 0;
    while (position < data.length) {
      const newline = data.indexOf(NEWLINE, position);
      const segmentEnd = newline === -1 ? data.length : newline;
      const segmentLength = segmentEnd - position;

      if (this.droppingLine) {
        this.store(data.subarray(runStart, position));
        runStart = segmentEnd;
      } else if (this.lineBytes + segmentLength <= MAX_LINE_BYTES) {
        this.lineBytes += segmentLength;
      } else {
        let cut = position + (MAX_LINE_BYTES - this.lineBytes);
        while (cut > position && isContinuationByte(data[cut])) cut -= 1;
        this.store(data.subarray(runStart, cut));
        this.store(LINE_TRUNCATED_MARKER_BYTES);
        this.truncatedLines += 1;
        this.droppingLine = true;
        runStart = segmentEnd;
      }

      if (newline === -1) {
        position = data.length;
      } else {
        this.lineBytes = 0;
        this.droppingLine = false;
        position = newline + 1;
      }
    }
    this.store(data.subarray(runStart));
  }

  private store(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.storedBytes += bytes.length;
    const intoHead = Math.min(bytes.length, MAX_HEAD_BYTES - this.headLength);
    if (intoHead > 0) {
      bytes.copy(this.head, this.headLength, 0, intoHead);
      this.headLength += intoHead;
    }
    if (intoHead < bytes.length) this.storeTail(bytes.subarray(intoHead));
  }

  private storeTail(bytes: Buffer): void {
    const ring = (this.tail ??= Buffer.alloc(MAX_TAIL_BYTES));
    // Only the last MAX_TAIL_BYTES of a large write can survive; skip the rest up front.
    const kept =
      bytes.length > MAX_TAIL_BYTES ? bytes.subarray(bytes.length - MAX_TAIL_BYTES) : bytes;
    let offset = 0;
    while (offset < kept.length) {
      const room = MAX_TAIL_BYTES - this.tailPosition;
      const take = Math.min(room, kept.length - offset);
      kept.copy(ring, this.tailPosition, offset, offset + take);
      offset += take;
      this.tailPosition = (this.tailPosition + take) % MAX_TAIL_BYTES;
    }
    this.tailLength = Math.min(MAX_TAIL_BYTES, this.tailLength + kept.length);
  }

  private orderedTail(): Buffer {
    if (!this.tail) return Buffer.alloc(0);
    if (this.tailLength < MAX_TAIL_BYTES) return this.tail.subarray(0, this.tailLength);
    return Buffer.concat([
      this.tail.subarray(this.tailPosition),
      this.tail.subarray(0, this.tailPosition),
    ]);
  }
}
