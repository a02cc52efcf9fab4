import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { describe, expect, it } from 'vitest';
import {
  isAbortError,
  parseRetryAfter,
  ProviderError,
  redactSecrets,
  toProviderError,
} from '../../../src/llm/index.js';

const KEY = 'sk-live-abcdefghijklmnop';

function httpError(status: number, message: string, headers: Record<string, string> = {}) {
  return APIError.generate(status, { error: { message } }, undefined, new Headers(headers));
}

describe('toProviderError', () => {
  it.each([408, 409, 429, 500, 502, 503, 529])('HTTP %i is transient', (status) => {
    expect(toProviderError(httpError(status, 'x'))).toMatchObject({ status, transient: true });
  });

  it.each([400, 401, 403, 404, 422])('HTTP %i is not transient', (status) => {
    expect(toProviderError(httpError(status, 'x'))).toMatchObject({ status, transient: false });
  });

  it('keeps the provider’s message and reads retry-after-ms before retry-after', () => {
    const error = toProviderError(
      httpError(429, 'Too many tokens', { 'retry-after-ms': '1500', 'retry-after': '9' }),
    );

    expect(error.message).toBe('Model provider returned HTTP 429: Too many tokens');
    expect(error.retryAfterMs).toBe(1500);
  });

  it('treats SDK connection errors and timeouts as transient', () => {
    const refused = new APIConnectionError({
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    });

    expect(toProviderError(refused)).toMatchObject({ transient: true });
    expect(toProviderError(refused).message).toContain('ECONNREFUSED');
    expect(toProviderError(new APIConnectionTimeoutError())).toMatchObject({ transient: true });
  });

  it('treats raw socket failures as transient, looking through the cause chain', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const cut = new TypeError('terminated', {
      cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
    });

    expect(toProviderError(reset)).toMatchObject({ transient: true });
    expect(toProviderError(cut)).toMatchObject({ transient: true });
    expect(toProviderError(cut).message).toContain('other side closed');
    expect(toProviderError(new Error('socket hang up'))).toMatchObject({ transient: true });
  });

  it('treats an unknown error as not transient, keeping it as the cause', () => {
    const bug = new RangeError('something else');

    const error = toProviderError(bug);

    expect(error).toMatchObject({ transient: false, status: undefined });
    expect(error.cause).toBe(bug);
  });

  it('reads the upstream status of an error event inside a stream', () => {
    const upstream = new APIError(
      undefined,
      { message: 'upstream died', code: 502 },
      undefined,
      undefined,
    );
    const unknown = new APIError(undefined, { message: 'hiccup' }, undefined, undefined);

    expect(toProviderError(upstream)).toMatchObject({ status: 502, transient: true });
    expect(toProviderError(unknown)).toMatchObject({ status: undefined, transient: true });
  });

  it('never puts the API key in the message', () => {
    const leaky = httpError(401, `Incorrect API key provided: ${KEY}`);
    const custom = new Error('auth failed for key my-self-hosted-secret');

    expect(toProviderError(leaky).message).not.toContain(KEY);
    expect(toProviderError(custom, { secrets: ['my-self-hosted-secret'] }).message).toBe(
      'Model provider call failed: auth failed for key [redacted]',
    );
  });

  it('cuts very long messages such as HTML error pages', () => {
    const page = `<html>${'x'.repeat(5_000)}</html>`;

    expect(toProviderError(httpError(502, page)).message.length).toBeLessThan(600);
  });

  it('returns a ProviderError unchanged', () => {
    const original = new ProviderError('already normalised', { transient: true });

    expect(toProviderError(original)).toBe(original);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds, milliseconds and HTTP dates', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');

    expect(parseRetryAfter(new Headers({ 'retry-after': '3' }), now)).toBe(3000);
    expect(parseRetryAfter(new Headers({ 'retry-after-ms': '250' }), now)).toBe(250);
    expect(
      parseRetryAfter(new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:05 GMT' }), now),
    ).toBe(5000);
    expect(parseRetryAfter(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(parseRetryAfter(new Headers(), now)).toBeUndefined();
  });
});

describe('isAbortError', () => {
  it('recognises DOM aborts and the SDK’s abort, nothing else', () => {
    const controller = new AbortController();
    controller.abort();

    expect(isAbortError(controller.signal.reason)).toBe(true);
    expect(isAbortError(new APIUserAbortError())).toBe(true);
    expect(isAbortError(new Error('AbortError'))).toBe(false);
    expect(isAbortError(new ProviderError('x', { transient: true }))).toBe(false);
    expect(isAbortError(undefined)).toBe(false);
  });
});

describe('redactSecrets', () => {
  it('removes given secrets, sk- keys and bearer tokens', () => {
    expect(redactSecrets('key=hunter22 ok', ['hunter22'])).toBe('key=[redacted] ok');
    expect(redactSecrets(`used ${KEY}`)).toBe('used sk-[redacted]');
    expect(redactSecrets('Authorization: Bearer abc.def')).toBe('Authorization: Bearer [redacted]');
  });
});
