import { describe, expect, it } from 'vitest';
import { titleFrom } from '../../../src/testing/fake-llm/index.js';
import { messageText, splitEven, splitText } from '../../../src/testing/fake-llm/render.js';

describe('splitEven', () => {
  it('cuts into at most the asked number of non-empty pieces that join back', () => {
    expect(splitEven('{"a":1}', 3)).toEqual(['{"a', '":1', '}']);
    expect(splitEven('ab', 5)).toEqual(['a', 'b']);
    expect(splitEven('', 3)).toEqual([]);
  });
});

describe('splitText', () => {
  it('cuts on word boundaries', () => {
    const pieces = splitText('one two three four five six', 3);

    expect(pieces).toEqual(['one two ', 'three four ', 'five six']);
  });

  it('keeps a single word whole', () => {
    expect(splitText('word')).toEqual(['word']);
  });
});

describe('titleFrom', () => {
  it('takes at most six words of the first sentence, without trailing punctuation', () => {
    expect(titleFrom('Please refactor the whole parser module into smaller files')).toBe(
      'Please refactor the whole parser module',
    );
    expect(titleFrom('Fix it! Then tell me.')).toBe('Fix it');
    expect(titleFrom('first line\nsecond line')).toBe('first line');
  });

  it('falls back to a default for empty text', () => {
    expect(titleFrom('   ')).toBe('New chat');
  });
});

describe('messageText', () => {
  it('reads string content and text parts', () => {
    expect(messageText('plain')).toBe('plain');
    expect(
      messageText([
        { type: 'text', text: 'a' },
        { type: 'image_url', image_url: {} },
        { type: 'text', text: 'b' },
      ]),
    ).toBe('ab');
    expect(messageText(null)).toBe('');
  });
});
