import { ProviderError, toProviderError } from './errors.js';
import { blockedProviderUrlReason } from './network-policy.js';
import type { LanguageModelOptions } from './types.js';

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
 * The transport both SDK clients are built with and the error mapping both streams use: one
 * silence deadline, no SDK retries (retrying is the daemon's policy, retry.ts, so it can report
 * each attempt) and the network guard unless private addresses are allowed.
 */
export function providerTransport(apiKey: string | null, options: LanguageModelOptions) {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const secrets = [apiKey];
  return {
    timeoutMs,
    clientOptions: {
      apiKey: apiKey ?? 'unused',
      maxRetries: 0,
      timeout: timeoutMs,
      fetch: options.allowPrivateNetwork
        ? options.fetch
        : guardedFetch(options.fetch ?? globalThis.fetch),
    },
    /** Turns whatever a call threw into what the caller should see. */
    failure(err: unknown, signal: AbortSignal | undefined, deadline: SilenceDeadline): unknown {
      // The caller's own abort is not a provider failure: rethrow its reason, as fetch does.
      if (signal?.aborted) return signal.reason as unknown;
      if (deadline.expired) {
        return new ProviderError(`The model provider sent nothing for ${timeoutMs} ms`, {
          transient: true,
          cause: err,
        });
      }
      return toProviderError(err, { secrets });
    },
    linkedSignal(signal: AbortSignal | undefined, deadline: SilenceDeadline): AbortSignal {
      return signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal;
    },
  };
}
