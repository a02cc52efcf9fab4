import { expectedText, type BenchScript } from './script.js';
import { encodeScript } from './script.js';

/**
 * The baseline: the same streams read straight from the fake, `concurrency` requests at once,
 * each parsed as the server's client would (SSE lines, JSON chunks, content deltas).
 */
export interface RawRun {
  wallMs: number;
  /** Request sent → first content delta, per stream: the provider's own first-token delay. */
  firstTokenMs: number[];
}

async function oneStream(baseUrl: string, script: BenchScript, startedAt: number) {
  const response = await fetch(`${baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' },
    body: JSON.stringify({
      model: 'bench-model',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: encodeScript(script) }],
    }),
  });
  if (!response.ok || !response.body) throw new Error(`raw stream: HTTP ${response.status}`);
  const decoder = new TextDecoder();
  let buffered = '';
  let text = '';
  let firstAt: number | undefined;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
      const data = JSON.parse(event.slice('data: '.length)) as {
        choices?: { delta?: { content?: string | null } }[];
      };
      const content = data.choices?.[0]?.delta?.content;
      if (content) {
        firstAt ??= performance.now();
        text += content;
      }
    }
  }
  if (text !== expectedText(script)) throw new Error('raw stream: unexpected text');
  return (firstAt ?? performance.now()) - startedAt;
}

export async function rawStreams(
  baseUrl: string,
  script: BenchScript,
  concurrency: number,
): Promise<RawRun> {
  const startedAt = performance.now();
  const firstTokenMs = await Promise.all(
    Array.from({ length: concurrency }, () => oneStream(baseUrl, script, startedAt)),
  );
  return { wallMs: performance.now() - startedAt, firstTokenMs };
}
