import { performance } from 'node:perf_hooks';

/**
 * B14 allows the server to merge a message's text and reasoning deltas for a short window. One
 * published part per provider chunk cost a Redis MULTI, a pub/sub message, a GraphQL execution and
 * a WebSocket frame per subscriber for every few characters; merged, a fast stream costs one of
 * each per window instead, and the concatenation a client sees is the same.
 */
export const COALESCE_WINDOW_MS = 25;
/** A merged delta is published once it reaches this many UTF-8 bytes, window or not. */
export const COALESCE_MAX_BYTES = 2_048;

export type DeltaType = 'TEXT' | 'REASONING';

export interface CoalescerOptions {
  windowMs?: number;
  maxBytes?: number;
}

/**
 * Throttles one step's deltas: a delta arriving after a quiet window is published at once (the
 * first token is never held back); later ones are merged and published when the window since
 * the last publish ends, when they reach maxBytes, or when a delta of the other type or any other
 * part comes (`flush`). So no text waits longer than the window, and the order of parts is kept.
 *
 * Publishes run one after another in call order; a failed publish (the lease was lost) is thrown
 * by the next add() or flush(), where the loop handles it as it handled a failed publish before.
 */
export class DeltaCoalescer {
  private readonly windowMs: number;
  private readonly maxBytes: number;
  private pendingType: DeltaType | null = null;
  private pendingText = '';
  private pendingBytes = 0;
  private lastPublishAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private publishing: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;
  private closed = false;

  constructor(
    private readonly publish: (part: { type: DeltaType; text: string }) => Promise<void>,
    options: CoalescerOptions = {},
  ) {
    this.windowMs = options.windowMs ?? COALESCE_WINDOW_MS;
    this.maxBytes = options.maxBytes ?? COALESCE_MAX_BYTES;
  }

  async add(type: DeltaType, text: string): Promise<void> {
    this.throwIfFailed();
    if (text.length === 0) return;
    if (this.pendingType !== null && this.pendingType !== type) this.emit();
    this.pendingType = type;
    this.pendingText += text;
    this.pendingBytes += Buffer.byteLength(text);
    const sinceLastPublish = performance.now() - this.lastPublishAt;
    if (this.pendingBytes >= this.maxBytes || sinceLastPublish >= this.windowMs) {
      // Published now: wait for it, so a slow broker slows the reader down as before.
      this.emit();
      await this.publishing;
      this.throwIfFailed();
    } else {
      this.timer ??= setTimeout(() => this.emit(), this.windowMs - sinceLastPublish);
    }
  }

  /** Publishes what is merged so far and waits for every publish: before any other part. */
  async flush(): Promise<void> {
    this.emit();
    await this.publishing;
    this.throwIfFailed();
  }

  /**
   * The step failed or was aborted: drops what is not published (the persisted message carries
   * it) and waits for publishes in flight, so none lands after the step's MessageEvent.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pendingType = null;
    this.pendingText = '';
    this.pendingBytes = 0;
    await this.publishing;
  }

  private emit() {
    clearTimeout(this.timer);
    this.timer = undefined;
    const type = this.pendingType;
    if (type === null || this.closed) return;
    const text = this.pendingText;
    this.pendingType = null;
    this.pendingText = '';
    this.pendingBytes = 0;
    this.lastPublishAt = performance.now();
    this.publishing = this.publishing
      .then(() => (this.failure ? undefined : this.publish({ type, text })))
      .catch((error: unknown) => {
        this.failure ??= { error };
      });
  }

  private throwIfFailed() {
    if (this.failure) throw this.failure.error;
  }
}
