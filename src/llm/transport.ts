import { ProviderError } from './errors.js';
import { blockedProviderUrlReason } from './network-policy.js';

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
