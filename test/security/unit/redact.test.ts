import { describe, expect, it } from 'vitest';
import { ProviderError, redactSecrets } from '../../../src/llm/errors.js';
import { isBlockedAddress } from '../../../src/llm/network-policy.js';
import { hasUnstorableText, storableJson, storableText } from '../../../src/text/storable.js';

/**
 * Issue #8: what a provider echoes back (keys, fragments, tokens) never reaches lastError,
 * RetryEvents or logs; text is made storable; the metadata ranges are recognised.
 */
describe('security: redacting provider error text', () => {
  const leaks: [string, string][] = [
    ['Incorrect API key provided: sk-proj-AbC123xyz789. Find it at …', 'sk-proj-AbC123xyz789'],
    ['invalid x-api-key header: sk-ant-api03-Zz9_abcdefgh', 'sk-ant-api03-Zz9_abcdefgh'],
    ['got Authorization: Bearer eyJhbGciOi.JIUzI1NiJ9.sig', 'eyJhbGciOi.JIUzI1NiJ9.sig'],
    ['upstream said Basic dXNlcjpwYXNzd29yZA==', 'dXNlcjpwYXNzd29yZA=='],
    ['request failed: {"api_key": "plain-letters-only"}', 'plain-letters-only'],
    [
      '?key=AIzaSyD-1234567890abcdefghijklmnopqrst failed',
      'AIzaSyD-1234567890abcdefghijklmnopqrst',
    ],
    ['aws AKIAIOSFODNN7EXAMPLE denied', 'AKIAIOSFODNN7EXAMPLE'],
    [
      'signature 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 bad',
      '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    ],
    [
      'token ZXhhbXBsZXNlY3JldHRva2VuMTIzNDU2Nzg5MA== rejected',
      'ZXhhbXBsZXNlY3JldHRva2VuMTIzNDU2Nzg5MA==',
    ],
  ];
  it.each(leaks)('redacts %s', (text, secret) => {
    const out = redactSecrets(text);
    expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
  });

  it("redacts the provider's own key and fragments of it, whatever its shape", () => {
    const key = 'correct-horse-battery-staple';
    expect(redactSecrets(`bad key ${key}!`, [key])).toBe('bad key [redacted]!');
    expect(redactSecrets('key ending horse-battery-staple is invalid', [key])).toBe(
      'key ending [redacted] is invalid',
    );
  });

  it('keeps ordinary error text readable', () => {
    const text =
      "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. An invalid token was given.";
    expect(redactSecrets(text)).toBe(text);
  });

  it('redacts every ProviderError message, even one built without the key', () => {
    const error = new ProviderError('HTTP 401: Incorrect API key provided: sk-live-1234567890');
    expect(error.message).toBe('HTTP 401: Incorrect API key provided: sk-[redacted]');
    expect(new ProviderError(`nul\u0000 here`).message).toBe('nul\uFFFD here');
  });
});

describe('security: storable text', () => {
  it('replaces NUL and lone surrogates with U+FFFD and keeps valid pairs', () => {
    expect(storableText('a\u0000b')).toBe('a\uFFFDb');
    expect(storableText('x\uD800y')).toBe('x\uFFFDy');
    expect(storableText('x\uDC00')).toBe('x\uFFFD');
    expect(storableText('\uDC00\uD800')).toBe('\uFFFD\uFFFD');
    expect(storableText('ok 😀')).toBe('ok 😀');
    expect(hasUnstorableText('ok 😀\t\u0007')).toBe(false);
  });

  it('repairs strings and keys inside JSON, and returns clean values as they are', () => {
    const clean = { a: ['x', { b: 1 }] };
    expect(storableJson(clean)).toBe(clean);
    expect(storableJson({ 'k\u0000': ['v\uD800', 2, null] })).toEqual({
      'k\uFFFD': ['v\uFFFD', 2, null],
    });
  });
});

describe('security: provider network policy', () => {
  it.each([
    '169.254.169.254',
    '169.254.0.1',
    '100.100.100.200',
    'fe80::1',
    'fd00:ec2::254',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '[fe80::abcd]',
  ])('blocks %s', (address) => expect(isBlockedAddress(address)).toBe(true));
  it.each(['127.0.0.1', '::1', '10.0.0.5', '192.168.1.10', '172.17.0.2', '8.8.8.8', 'fd00::1'])(
    'allows %s',
    (address) => expect(isBlockedAddress(address)).toBe(false),
  );
});
