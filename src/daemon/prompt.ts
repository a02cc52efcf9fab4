import type { ChatMessage } from '../generated/prisma/client.js';
import { partsText, readParts, type MessagePart } from '../chats/parts.js';
import type { LlmAttachment, LlmMessage, ReasoningBlock } from '../llm/index.js';
import type { PromptFile } from '../files/prompt-files.js';
import { IMAGE_MEDIA_TYPES } from '../files/sniff.js';
import { INTERRUPTED_TOOL_RESULT } from './loop.js';

export const SUMMARY_PREFIX =
  'The following is a summary of the earlier conversation. The assistant was actively working ' +
  'when the context was compacted. Continue the work described below:';

/**
 * Builds the model prompt (B10): system prompt, workspace instructions, then the history. The
 * history starts at the newest compaction summary when there is one (B21); soft-deleted messages
 * are left out (B12). A tool call without a result (a worker died between persisting the call and
 * its result) gets a synthetic error result, so the prompt stays valid for every provider.
 */
export function buildPrompt(input: {
  systemPrompt: string;
  instructions?: string[];
  history: ChatMessage[];
  /** Files the history's USER messages reference (src/files/prompt-files.ts). */
  files?: ReadonlyMap<string, PromptFile>;
  /** Whether the model reads images; if not, an image is described in text. */
  supportsImages?: boolean;
}): LlmMessage[] {
  const messages: LlmMessage[] = [{ role: 'system', content: input.systemPrompt }];
  for (const instruction of input.instructions ?? []) {
    messages.push({ role: 'system', content: instruction });
  }
  const visible = input.history.filter((message) => !message.deleted);
  const summaryIndex = visible.findLastIndex((message) => message.isSummary);
  const fromSummary = summaryIndex >= 0 ? visible.slice(summaryIndex) : visible;

  let openCalls: string[] = [];
  const closeOpenCalls = () => {
    for (const toolCallId of openCalls) {
      messages.push({
        role: 'tool',
        toolCallId,
        content: JSON.stringify({ error: INTERRUPTED_TOOL_RESULT }),
      });
    }
    openCalls = [];
  };

  for (const message of fromSummary) {
    const parts = readParts(message.contentVersion, message.parts);
    if (message.role === 'TOOL') {
      for (const part of parts) {
        if (part.type !== 'TOOL_RESULT' || !openCalls.includes(part.toolCallId)) continue;
        openCalls = openCalls.filter((id) => id !== part.toolCallId);
        messages.push({
          role: 'tool',
          toolCallId: part.toolCallId,
          content: JSON.stringify(part.result ?? null),
        });
      }
      continue;
    }
    closeOpenCalls();
    if (message.isSummary) {
      messages.push({ role: 'user', content: `${SUMMARY_PREFIX}\n\n${partsText(parts)}` });
    } else if (message.role === 'USER') {
      messages.push(userMessage(parts, input.files, input.supportsImages ?? false));
    } else if (message.role === 'SYSTEM') {
      messages.push({ role: 'system', content: partsText(parts) });
    } else {
      const toolCalls = toolCallsOf(parts);
      const reasoning = reasoningOf(parts);
      messages.push({
        role: 'assistant',
        content: partsText(parts),
        ...(reasoning.length > 0 ? { reasoning } : {}),
        ...(toolCalls.length > 0 ? { toolCalls } : {}),
      });
      openCalls = toolCalls.map((call) => call.id);
    }
  }
  closeOpenCalls();
  return messages;
}

/**
 * A user message with its files: text files inline, images as attachments when the model reads
 * them (else described), PDFs as attachments (each provider renders or describes them).
 */
function userMessage(
  parts: MessagePart[],
  files: ReadonlyMap<string, PromptFile> | undefined,
  supportsImages: boolean,
): LlmMessage {
  const texts = [partsText(parts)];
  const attachments: LlmAttachment[] = [];
  for (const part of parts) {
    if (part.type !== 'FILE') continue;
    const file = part.fileId ? files?.get(part.fileId) : undefined;
    if (!file) {
      texts.push(`[Attached file "${part.name}" is no longer available]`);
    } else if (file.mediaType === 'text/plain') {
      const content = new TextDecoder().decode(file.data);
      texts.push(`<attached_file name="${file.name}">\n${content}\n</attached_file>`);
    } else if (IMAGE_MEDIA_TYPES.has(file.mediaType) && !supportsImages) {
      texts.push(
        `[Attached image "${file.name}" (${file.mediaType}, ${file.size} bytes): this model cannot see images]`,
      );
    } else {
      const base64 = Buffer.from(file.data).toString('base64');
      attachments.push({ name: file.name, mediaType: file.mediaType, base64 });
    }
  }
  const content = texts.filter((text) => text.length > 0).join('\n\n');
  return attachments.length > 0
    ? { role: 'user', content, attachments }
    : { role: 'user', content };
}

/** Reasoning as the provider produced it, signatures included (Anthropic needs them back). */
function reasoningOf(parts: MessagePart[]): ReasoningBlock[] {
  return parts.flatMap((part) =>
    part.type === 'REASONING'
      ? [
          {
            text: part.text,
            ...(part.signature ? { signature: part.signature } : {}),
            ...(part.redactedData ? { redactedData: part.redactedData } : {}),
          },
        ]
      : [],
  );
}

function toolCallsOf(parts: MessagePart[]) {
  return parts.flatMap((part) =>
    part.type === 'TOOL_CALL'
      ? [
          {
            id: part.toolCallId,
            name: part.toolName,
            argumentsJson: JSON.stringify(part.args ?? {}),
          },
        ]
      : [],
  );
}
