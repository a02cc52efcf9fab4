import { ProviderError, toProviderError } from './errors.js';
import { blockedProviderUrlReason } from './network-policy.js';
import type { LanguageModelOptions, StreamChunk } from './types.js';

/** What every provider's HTTP client shares: the silence deadline and the network guard. */

const MINUTE_MS = 60_000;
/**
 * Longest silence of a provider, before the headers and between chunks (LLM_STREAM_IDLE_TIMEOUT_MS).
 * Two minutes: a stalled provider must not hold a chat RUNNING for the SDK's ten.
 */
export const DEFAULT_TIMEOUT_MS = 2 * MINUTE_MS;

/**
 * Aborts when the provider stays silent for `ms`. Stopped while the consumer handles chunks, so a
 * slow consumer is never mistaken for a slow provider.
 */
export class SilenceDeadline {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  expired = false;

  constructor(private readonly ms: number) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  arm(): void {
    this.stop();
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort();
    }, this.ms);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * Checks at request time where the provider's host resolves, so a name that pointed somewhere
 * harmless when the provider was saved cannot be re-pointed at a metadata service later (DNS
 * rebinding). fetch resolves the name again itself, so a resolver answering differently within
 * the same instant is not covered; the check is about the stable case, and costs one lookup
 * (cached by the OS resolver) per call.
 */
export function guardedFetch(inner: typeof fetch): typeof fetch {
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const reason = await blockedProviderUrlReason(url);
    if (reason) {
      throw new ProviderError(
        `Refusing to call the model provider: ${reason} (set ALLOW_PRIVATE_PROVIDER_URLS=true to allow)`,
      );
    }
    return inner(input, init);
  };
}

/**
 * The transport both SDK clients are built with, and the one way both providers run a request:
 * one silence deadline, no SDK retries (retrying is the daemon's policy, retry.ts, so it can
 * report each attempt), the network guard unless private addresses are allowed, and one mapping
 * of failures.
 */
export function providerTransport(apiKey: string | null, options: LanguageModelOptions) {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const secrets = [apiKey];

  /** Turns whatever a call threw into what the caller should see. */
  function failure(err: unknown, signal: AbortSignal | undefined, deadline: SilenceDeadline) {
    // The caller's own abort is not a provider failure: rethrow its reason, as fetch does.
    if (signal?.aborted) return signal.reason as unknown;
    if (deadline.expired) {
      return new ProviderError(`The model provider sent nothing for ${timeoutMs} ms`, {
        transient: true,
        cause: err,
      });
    }
    return toProviderError(err, { secrets });
  }

  /** The signal handed to the SDK: the caller's abort or the deadline, whichever comes first. */
  function linkedSignal(signal: AbortSignal | undefined, deadline: SilenceDeadline) {
    return signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal;
  }

  return {
    clientOptions: {
      apiKey: apiKey ?? 'unused',
      maxRetries: 0,
      timeout: timeoutMs,
      fetch: options.allowPrivateNetwork
        ? options.fetch
        : guardedFetch(options.fetch ?? globalThis.fetch),
    },

    /** One whole request under the deadline; `send` passes the signal it is given to the SDK. */
    async call<T>(
      signal: AbortSignal | undefined,
      send: (signal: AbortSignal) => PromiseLike<T>,
    ): Promise<T> {
      signal?.throwIfAborted();
      const deadline = new SilenceDeadline(timeoutMs);
      deadline.arm();
      try {
        return await send(linkedSignal(signal, deadline));
      } catch (err) {
        throw failure(err, signal, deadline);
      } finally {
        deadline.stop();
      }
    },

    /**
     * A streamed request: `open` starts it, each event becomes chunks through `toChunks`, and the
     * deadline restarts after each event the consumer has taken. `ending()` is what makes the
     * answer complete (a finish reason, a stop event), undefined until it arrived; the stream
     * returns it. The SDKs end a stream quietly when its signal aborts, so an abort or a silence
     * timeout can look like a normal end; and a stream cut before its ending is not a complete
     * answer, whatever arrived. Both throw, after the chunks already yielded.
     */
    async *stream<Event, Ending>(
      signal: AbortSignal | undefined,
      open: (signal: AbortSignal) => PromiseLike<AsyncIterable<Event>>,
      toChunks: (event: Event) => StreamChunk[],
      ending: () => Ending | undefined,
    ): AsyncGenerator<StreamChunk, Ending> {
      signal?.throwIfAborted();
      const deadline = new SilenceDeadline(timeoutMs);
      deadline.arm();
      try {
        const events = await open(linkedSignal(signal, deadline));
        deadline.arm();
        for await (const event of events) {
          const chunks = toChunks(event);
          deadline.stop();
          yield* chunks;
          deadline.arm();
        }
      } catch (err) {
        throw failure(err, signal, deadline);
      } finally {
        deadline.stop();
      }
      const ended = new ProviderError('The model provider ended the stream before finishing', {
        transient: true,
      });
      if (signal?.aborted || deadline.expired) throw failure(ended, signal, deadline);
      const end = ending();
      if (end === undefined) throw ended;
      return end;
    },
  };
}
