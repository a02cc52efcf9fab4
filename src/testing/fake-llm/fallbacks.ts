import { firstUserText, lastUserText } from './render.js';
import { HttpStatus } from '../../http-status.js';
import type { FallbackHandler } from './types.js';

export const NO_SCRIPT_MESSAGE = 'fake-llm: no scripted response for this request';
const TITLE_MAX_WORDS = 6;
const DEFAULT_TITLE = 'New chat';

/** Unexpected calls fail loudly, so a test never passes on an answer nobody scripted. */
export const failFallback: FallbackHandler = () => ({
  status: HttpStatus.INTERNAL_SERVER_ERROR,
  errorMessage: NO_SCRIPT_MESSAGE,
});

/** First words of the first sentence, without trailing punctuation: good enough for a title. */
export function titleFrom(text: string): string {
  const firstLine = text.trim().split('\n', 1)[0] ?? '';
  const firstSentence = firstLine.split(/(?<=[.!?])\s/, 1)[0] ?? '';
  const words = firstSentence.split(/\s+/).filter((w) => w.length > 0);
  const title = words
    .slice(0, TITLE_MAX_WORDS)
    .join(' ')
    .replace(/[\s.,;:!?]+$/, '');
  return title.length > 0 ? title : DEFAULT_TITLE;
}

export interface EchoFallbackOptions {
  /** Slows the echo down so a UI visibly streams it. */
  chunkDelayMs?: number;
}

/**
 * Streams "You said: <last user message>". Non-streaming calls are what a service uses for side
 * tasks like naming a chat, so they get a short title made from the first user message.
 */
export function createEchoFallback(options: EchoFallbackOptions = {}): FallbackHandler {
  return (body) =>
    body.stream === true
      ? { text: `You said: ${lastUserText(body)}`, chunkDelayMs: options.chunkDelayMs }
      : { text: titleFrom(firstUserText(body)) };
}

export const echoFallback: FallbackHandler = createEchoFallback();
