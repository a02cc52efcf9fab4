import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { parseInput } from '../../../src/parse-input.js';
import {
  MAX_PRICE_MICROS,
  createModelConfigSchema,
  createProviderSchema,
  updateModelConfigSchema,
  updateProviderSchema,
} from '../../../src/providers/validation.js';

/** The field and message parseInput reports for a rejected input. */
function rejection(run: () => unknown): { code: string; field?: string; message: string } {
  try {
    run();
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { code: error.code, field: error.field, message: error.message };
  }
  throw new Error('the input was accepted');
}

const MODEL = { providerId: 'p', model: 'm', contextLimit: 1000 };

describe('provider and model config schemas', () => {
  it('on update, null and absent leave a field while blank removes the base URL and key', () => {
    const parsed = parseInput(updateProviderSchema, {
      id: 'x',
      displayName: null,
      baseUrl: '  ',
      apiKey: null,
      enabled: null,
    });
    // Undefined is what Prisma skips; null is what it writes.
    expect(parsed).toEqual({ id: 'x', baseUrl: null });
    expect(parsed.displayName).toBeUndefined();
    expect(parsed.apiKey).toBeUndefined();
    expect(parseInput(updateProviderSchema, { id: 'x', apiKey: ' sk-1 ' }).apiKey).toBe('sk-1');
  });

  it('on create, null, absent and blank are all "none"', () => {
    expect(
      parseInput(createProviderSchema, { kind: 'OPENAI', displayName: ' A ', baseUrl: ' ' }),
    ).toEqual({ kind: 'OPENAI', displayName: 'A', baseUrl: null, apiKey: null });
  });

  it.each([
    ['baseUrl', { baseUrl: 'ftp://example.com' }],
    ['baseUrl', { baseUrl: `https://example.com/${'a'.repeat(2048)}` }],
    ['apiKey', { apiKey: 'k'.repeat(4097) }],
    ['displayName', { displayName: 'x'.repeat(101) }],
  ])('refuses a bad %s on create and on update', (field, bad) => {
    const onCreate = rejection(() =>
      parseInput(createProviderSchema, { kind: 'OPENAI', displayName: 'ok', ...bad }),
    );
    const onUpdate = rejection(() => parseInput(updateProviderSchema, { id: 'x', ...bad }));
    for (const refused of [onCreate, onUpdate]) {
      expect(refused).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(refused.message).toContain(field);
    }
  });

  it('fills the defaults of a new model config', () => {
    const parsed = parseInput(createModelConfigSchema, { ...MODEL, model: ` ${'m'.repeat(150)} ` });
    expect(parsed).toMatchObject({
      model: 'm'.repeat(150),
      displayName: 'm'.repeat(100),
      compressionThreshold: 70,
      isDefault: false,
    });
    expect(parsed.supportsImages).toBeUndefined();
  });

  it('on update, null clears a price or generation option, absent leaves it', () => {
    const parsed = parseInput(updateModelConfigSchema, {
      id: 'x',
      inputPriceMicros: null,
      temperature: null,
      supportsImages: null,
      contextLimit: null,
    });
    expect(parsed).toEqual({ id: 'x', inputPriceMicros: null, temperature: null });
    expect('outputPriceMicros' in parsed).toBe(false);
    expect(parsed.supportsImages).toBeUndefined();
  });

  it.each([
    ['inputPriceMicros', MAX_PRICE_MICROS * 10],
    ['outputPriceMicros', Number.POSITIVE_INFINITY],
    ['cacheReadPriceMicros', Number.NaN],
    ['maxOutputTokens', 0],
    ['maxOutputTokens', 1_000_001],
    ['thinkingBudgetTokens', 1023],
    ['temperature', 2.5],
    ['temperature', -0.1],
    ['compressionThreshold', 50.5],
    ['contextLimit', 1.5],
  ])('refuses %s = %s on create and on update', (field, value) => {
    for (const run of [
      () => parseInput(createModelConfigSchema, { ...MODEL, [field]: value }),
      () => parseInput(updateModelConfigSchema, { id: 'x', [field]: value }),
    ]) {
      expect(rejection(run)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
  });

  it('accepts the bounds themselves', () => {
    expect(
      parseInput(updateModelConfigSchema, {
        id: 'x',
        inputPriceMicros: MAX_PRICE_MICROS,
        outputPriceMicros: 0,
        maxOutputTokens: 1_000_000,
        thinkingBudgetTokens: 1024,
        temperature: 2,
        compressionThreshold: 0,
      }),
    ).toMatchObject({ inputPriceMicros: MAX_PRICE_MICROS, thinkingBudgetTokens: 1024 });
  });
});
