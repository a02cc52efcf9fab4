/**
 * What the bench's fake LLM answers, carried in the user message itself. The fake runs in its own
 * process and serves many chats at once, so a shared queue of scripted steps could not say which
 * answer belongs to which request; a directive in the text it is answering can.
 */
export interface BenchScript {
  /** Streamed content chunks ("tokens"); 1 means the trivial answer "hi". */
  tokens: number;
  /** Wait between chunks (the provider's pace). */
  delayMs: number;
  /** Send the first chunk, then wait until the bench tells the fake to release held streams. */
  hold?: boolean;
}

const PREFIX = 'bench-script ';
const NONCE_MARK = '#';
/** What the fake answers to a title request (non-streaming): differs from any initial title. */
export const BENCH_TITLE = 'Bench chat';
/** The answer of a one-token script: the trivial turn of the issue. */
const TRIVIAL_ANSWER = 'hi';

export const TRIVIAL: BenchScript = { tokens: 1, delayMs: 0 };

/**
 * `nonce` makes the message findable in the database: after a failed mutation, the bench checks
 * whether it was stored before it tries again.
 */
export function encodeScript(script: BenchScript, nonce = ''): string {
  return `${PREFIX}${JSON.stringify(script)}${nonce ? ` ${NONCE_MARK}${nonce}` : ''}`;
}

export function decodeScript(text: string): BenchScript | undefined {
  if (!text.startsWith(PREFIX)) return undefined;
  try {
    const json = text.slice(PREFIX.length).split(` ${NONCE_MARK}`, 1)[0]!;
    const parsed = JSON.parse(json) as Partial<BenchScript>;
    if (typeof parsed.tokens !== 'number' || typeof parsed.delayMs !== 'number') return undefined;
    return { tokens: parsed.tokens, delayMs: parsed.delayMs, hold: parsed.hold === true };
  } catch {
    return undefined;
  }
}

/** The chunks the fake streams for `script`; their concatenation is what a subscriber must see. */
export function scriptChunks(script: BenchScript): string[] {
  if (script.tokens <= 1) return [TRIVIAL_ANSWER];
  return Array.from({ length: script.tokens }, (_, i) => `t${i} `);
}

export const expectedText = (script: BenchScript) => scriptChunks(script).join('');
