import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED, type LogLevel } from '../../../src/logger.js';

function capture(level: LogLevel = 'debug') {
  const lines: Record<string, unknown>[] = [];
  const destination = { write: (line: string) => lines.push(JSON.parse(line)) };
  return { lines, logger: createLogger(level, { replica: 'r1' }, { destination }) };
}

describe('logger', () => {
  it('keeps an error’s stack and cause chain', () => {
    const { lines, logger } = capture();
    const failure = new Error('query failed', { cause: new Error('connection reset') });
    logger.error('internal error', { error: failure });
    const error = lines[0]!['error'] as { message: string; stack: string; cause: unknown };
    expect(error.message).toBe('query failed');
    expect(error.stack).toContain('logger.test.ts');
    expect(error.cause).toMatchObject({ message: 'connection reset' });
  });

  it('redacts secret-looking fields at any depth, in child bindings too', () => {
    const { lines, logger } = capture();
    const secret = 'sk-live-0123456789abcdef';
    logger
      .child({ session: { token: secret } })
      .warn('provider call', { request: { headers: { Authorization: `Bearer ${secret}` } } });
    logger.info('config', { provider: { apiKey: secret, name: 'openai' } });
    const text = lines.map((line) => JSON.stringify(line)).join('\n');
    expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({
      session: { token: REDACTED },
      request: { headers: { Authorization: REDACTED } },
    });
    expect(lines[1]).toMatchObject({ provider: { apiKey: REDACTED, name: 'openai' } });
  });

  it('writes the level as a label and drops lines below the level', () => {
    const { lines, logger } = capture('warn');
    logger.info('not shown');
    logger.warn('shown', { count: 2n });
    expect(lines).toEqual([
      expect.objectContaining({ level: 'warn', msg: 'shown', replica: 'r1', count: '2' }),
    ]);
  });
});
