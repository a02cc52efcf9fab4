import type { MessagePart, ToolCallPart, ToolResultPart } from '../chats/parts.js';
import {
  DEFAULT_RETRY_POLICY,
  retryDelayMs,
  shouldRetry,
  toProviderError,
  ZERO_USAGE,
  type FinishReason,
  type LanguageModel,
  type LlmMessage,
  type ReasoningBlock,
  type RetryPolicy,
  type TokenUsage,
  type ToolSpec,
} from '../llm/index.js';
import type { ToolOutcome } from '../tools/tool.js';
import type { TurnEnd } from '../chats/plan-mode.js';
import { DeltaCoalescer, type CoalescerOptions } from './delta-coalescer.js';

/**
 * The agent loop, pure: it receives the model, the tools and callbacks, and never touches the
 * database or pub/sub. One step = one streamed model call, persisted as one ASSISTANT message,
 * then its tool calls run in parallel and their results are persisted as TOOL messages (in call
 * order). It loops until the model stops calling tools or the step cap is reached (B10).
 */
export const DEFAULT_MAX_STEPS = 50;
export const INTERRUPTED_TOOL_RESULT = 'Tool call was interrupted before it produced a result';

export interface AssistantStep {
  messageId: string;
  parts: MessagePart[];
  usage: TokenUsage;
  finishReason: FinishReason | 'interrupted';
}

export interface ToolResultRecord {
  messageId: string;
  part: ToolResultPart;
  /** The tool ended the turn (ask_user_question, propose_plan: B20). */
  endsTurn?: TurnEnd;
}

export interface LoopCallbacks {
  /**
   * Ids for the messages a step (or its tool results) will be persisted as, before they stream;
   * ascending, in one round trip.
   */
  reserveMessageIds(count: number): Promise<string[]>;
  /** A streamed part (delta) of the message `messageId`; `seq` orders parts within a message. */
  publishPart(event: {
    messageId: string;
    role: 'ASSISTANT' | 'TOOL';
    part: MessagePart;
    seq: number;
  }): Promise<void>;
  /** Persists a finished (or interrupted) step. Throws when the chat is no longer ours. */
  persistStep(step: AssistantStep): Promise<void>;
  /** Persists a step's tool results, in call order. Throws when the chat is no longer ours. */
  persistToolResults(results: ToolResultRecord[]): Promise<void>;
  executeTool(name: string, args: unknown, signal: AbortSignal): Promise<ToolOutcome>;
  onRetry(retry: {
    attempt: number;
    delayMs: number;
    error: string;
    status?: number;
  }): Promise<void>;
  /**
   * After each persisted step: may replace the prompt with a compacted one (B21). Returning null
   * keeps it.
   */
  afterStep?(usage: TokenUsage, messages: LlmMessage[]): Promise<LlmMessage[] | null>;
}

export interface LoopInput {
  model: LanguageModel;
  tools: ToolSpec[];
  messages: LlmMessage[];
  maxSteps?: number;
  maxOutputTokens?: number;
  retryPolicy?: RetryPolicy;
  /** How text and reasoning deltas are merged before they are published (B14). */
  coalesce?: CoalescerOptions;
  signal: AbortSignal;
  /** Sleep used between retries; resolves early (rejecting) when the signal aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export type LoopOutcome =
  | { kind: 'completed'; steps: number; endedBy?: TurnEnd }
  | { kind: 'step-cap'; steps: number }
  | { kind: 'interrupted'; steps: number }
  | { kind: 'error'; steps: number; message: string; status?: number };

/** Accumulates one step's stream into parts, and numbers the parts it publishes. */
class StepState {
  reasoning = '';
  /** The reasoning split as the provider signed it (Anthropic), so it can be sent back as is. */
  reasoningBlocks: ReasoningBlock[] = [];
  private reasoningOpen = false;
  text = '';
  toolCalls: { id: string; name: string; argsJson: string; args: unknown; parseError?: string }[] =
    [];
  usage: TokenUsage = { ...ZERO_USAGE };
  finishReason: FinishReason = 'other';
  seq = 0;

  parts(): MessagePart[] {
    const parts: MessagePart[] = [];
    for (const block of this.reasoningBlocks) parts.push({ type: 'REASONING', ...block });
    if (this.text) parts.push({ type: 'TEXT', text: this.text });
    for (const call of this.toolCalls) {
      parts.push({
        type: 'TOOL_CALL',
        toolCallId: call.id,
        toolName: call.name,
        args: call.args ?? null,
      });
    }
    return parts;
  }

  addReasoning(text: string): void {
    this.reasoning += text;
    const open = this.reasoningOpen ? this.reasoningBlocks.at(-1) : undefined;
    if (open) open.text += text;
    else this.reasoningBlocks.push({ text });
    this.reasoningOpen = true;
  }

  /** A signature closes the block it signs; the next reasoning delta starts another. */
  signReasoning(signature: string): void {
    const open = this.reasoningOpen ? this.reasoningBlocks.at(-1) : undefined;
    if (open) open.signature = signature;
    else this.reasoningBlocks.push({ text: '', signature });
    this.reasoningOpen = false;
  }

  addRedactedReasoning(data: string): void {
    this.reasoningBlocks.push({ text: '', redactedData: data });
    this.reasoningOpen = false;
  }

  get produced() {
    return this.reasoning.length > 0 || this.text.length > 0 || this.toolCalls.length > 0;
  }
}

export async function runAgentLoop(
  input: LoopInput,
  callbacks: LoopCallbacks,
): Promise<LoopOutcome> {
  const maxSteps = input.maxSteps ?? DEFAULT_MAX_STEPS;
  const policy = input.retryPolicy ?? DEFAULT_RETRY_POLICY;
  const sleep = input.sleep ?? abortableSleep;
  const { signal } = input;
  let messages = [...input.messages];

  for (let step = 1; step <= maxSteps; step++) {
    const [messageId] = await callbacks.reserveMessageIds(1);
    if (messageId === undefined) throw new Error('no message id reserved');
    let state: StepState;
    for (let attempt = 1; ; attempt++) {
      state = new StepState();
      try {
        await streamStep(input, messages, messageId, state, callbacks);
        break;
      } catch (error) {
        if (signal.aborted) {
          if (state.produced) {
            await callbacks.persistStep({
              messageId,
              // Unfinished tool calls are dropped: only complete calls can be answered.
              parts: state.parts().filter((part) => part.type !== 'TOOL_CALL'),
              usage: state.usage,
              finishReason: 'interrupted',
            });
          }
          return { kind: 'interrupted', steps: step };
        }
        const providerError = toProviderError(error);
        if (!shouldRetry(providerError, attempt, policy)) {
          return {
            kind: 'error',
            steps: step,
            message: providerError.message,
            status: providerError.status,
          };
        }
        const delayMs = retryDelayMs(providerError, attempt, policy);
        await callbacks.onRetry({
          attempt,
          delayMs,
          error: providerError.message,
          status: providerError.status,
        });
        try {
          await sleep(delayMs, signal);
        } catch {
          return { kind: 'interrupted', steps: step };
        }
      }
    }

    await callbacks.persistStep({
      messageId,
      parts: state.parts(),
      usage: state.usage,
      finishReason: state.finishReason,
    });
    messages.push({
      role: 'assistant',
      content: state.text,
      ...(state.reasoningBlocks.length > 0 ? { reasoning: state.reasoningBlocks } : {}),
      ...(state.toolCalls.length > 0
        ? {
            toolCalls: state.toolCalls.map((call) => ({
              id: call.id,
              name: call.name,
              argumentsJson: call.argsJson,
            })),
          }
        : {}),
    });
    // The provider paused a long turn (Anthropic's pause_turn): sending it back resumes it.
    if (state.toolCalls.length === 0 && state.finishReason === 'pause') continue;
    if (state.toolCalls.length === 0) {
      // Compacting after the final step too: the next turn then starts from the summary.
      await callbacks.afterStep?.(state.usage, messages);
      return { kind: 'completed', steps: step };
    }

    const results = await runToolCalls(state.toolCalls, signal, callbacks);
    await callbacks.persistToolResults(results);
    for (const { part } of results) {
      messages.push({
        role: 'tool',
        toolCallId: part.toolCallId,
        content: JSON.stringify(part.result),
      });
    }
    if (signal.aborted) return { kind: 'interrupted', steps: step };
    // A question or a plan waits for the user: no further step answers it in their place.
    const endedBy = results.find((record) => record.endsTurn)?.endsTurn;
    if (endedBy) {
      await callbacks.afterStep?.(state.usage, messages);
      return { kind: 'completed', steps: step, endedBy };
    }
    const compacted = await callbacks.afterStep?.(state.usage, messages);
    if (compacted) messages = compacted;
  }
  return { kind: 'step-cap', steps: maxSteps };
}

async function streamStep(
  input: LoopInput,
  messages: LlmMessage[],
  messageId: string,
  state: StepState,
  callbacks: LoopCallbacks,
) {
  const publish = (part: MessagePart) =>
    callbacks.publishPart({ messageId, role: 'ASSISTANT', part, seq: state.seq++ });
  // Text and reasoning deltas are merged for a short window (B14); any other part first
  // publishes what is merged, so parts keep their order.
  const deltas = new DeltaCoalescer((part) => publish(part), input.coalesce);
  const chunks = input.model.stream({
    messages,
    tools: input.tools.length > 0 ? input.tools : undefined,
    signal: input.signal,
    maxOutputTokens: input.maxOutputTokens,
  });
  try {
    for await (const chunk of chunks) {
      switch (chunk.type) {
        case 'text-delta':
          state.text += chunk.text;
          await deltas.add('TEXT', chunk.text);
          break;
        case 'reasoning-delta':
          state.addReasoning(chunk.text);
          await deltas.add('REASONING', chunk.text);
          break;
        case 'reasoning-signature':
          state.signReasoning(chunk.signature);
          break;
        case 'redacted-reasoning':
          state.addRedactedReasoning(chunk.data);
          break;
        case 'tool-call-delta':
          await deltas.flush();
          await publish({
            type: 'TOOL_CALL',
            toolCallId: chunk.toolCallId,
            toolName: chunk.toolName,
            argsDelta: chunk.argsDelta,
          });
          break;
        case 'tool-call': {
          await deltas.flush();
          state.toolCalls.push({
            id: chunk.toolCallId,
            name: chunk.toolName,
            argsJson: chunk.argsJson,
            args: chunk.args,
            ...(chunk.parseError ? { parseError: chunk.parseError } : {}),
          });
          const part: ToolCallPart = {
            type: 'TOOL_CALL',
            toolCallId: chunk.toolCallId,
            toolName: chunk.toolName,
            args: chunk.args ?? null,
          };
          await publish(part);
          break;
        }
        case 'usage':
          state.usage = chunk.usage;
          break;
        case 'finish':
          state.finishReason = chunk.reason;
          break;
      }
    }
    await deltas.flush();
  } finally {
    // After a failure nothing merged is published any more: the persisted step carries it.
    await deltas.close();
  }
}

/** Runs a step's tool calls in parallel; results come back in call order. */
async function runToolCalls(
  calls: StepState['toolCalls'],
  signal: AbortSignal,
  callbacks: LoopCallbacks,
): Promise<ToolResultRecord[]> {
  const ids = await callbacks.reserveMessageIds(calls.length);
  return Promise.all(
    calls.map(async (call, index): Promise<ToolResultRecord> => {
      const messageId = ids[index]!;
      let outcome: ToolOutcome;
      if (call.parseError !== undefined) {
        outcome = {
          isError: true,
          result: { error: `Arguments are not valid JSON: ${call.parseError}` },
        };
      } else if (signal.aborted) {
        outcome = { isError: true, result: { error: INTERRUPTED_TOOL_RESULT } };
      } else {
        outcome = await callbacks.executeTool(call.name, call.args, signal);
      }
      const part: ToolResultPart = {
        type: 'TOOL_RESULT',
        toolCallId: call.id,
        toolName: call.name,
        result: outcome.result,
        isError: outcome.isError,
      };
      await callbacks.publishPart({ messageId, role: 'TOOL', part, seq: 0 });
      return outcome.endsTurn && !outcome.isError
        ? { messageId, part, endsTurn: outcome.endsTurn }
        : { messageId, part };
    }),
  );
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
