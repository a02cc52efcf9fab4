/**
 * Message parts as stored in chat_messages.parts (content version 1) and streamed to clients.
 * Every role stores an array of parts, so reading a message never depends on its role.
 */
export const CONTENT_VERSION = 1;

export interface TextPart {
  type: 'TEXT';
  text: string;
}
export interface ReasoningPart {
  type: 'REASONING';
  text: string;
  /** Provider signature of this reasoning block (Anthropic); sent back on later turns only. */
  signature?: string;
  /** Opaque payload of a redacted reasoning block (Anthropic); text is empty then. */
  redactedData?: string;
}
export interface ToolCallPart {
  type: 'TOOL_CALL';
  toolCallId: string;
  toolName: string;
  args?: unknown;
  argsDelta?: string;
}
export interface ToolResultPart {
  type: 'TOOL_RESULT';
  toolCallId: string;
  toolName: string;
  result?: unknown;
  isError: boolean;
}
export interface FilePart {
  type: 'FILE';
  /** The uploaded file (src/files); absent on parts that only point at a URL. */
  fileId?: string;
  name: string;
  mediaType: string;
  size?: number;
  url?: string | null;
}

export type MessagePart = TextPart | ReasoningPart | ToolCallPart | ToolResultPart | FilePart;

export function textPart(text: string): TextPart {
  return { type: 'TEXT', text };
}

/** Parses stored parts defensively: an unknown content version is a bug, not user input. */
export function readParts(contentVersion: number, stored: unknown): MessagePart[] {
  if (contentVersion !== CONTENT_VERSION) {
    throw new Error(`Unknown message content version ${contentVersion}`);
  }
  return Array.isArray(stored) ? (stored as MessagePart[]) : [];
}

/** The plain text of a message: its TEXT parts joined. */
export function partsText(parts: MessagePart[]): string {
  return parts
    .filter((part): part is TextPart => part.type === 'TEXT')
    .map((part) => part.text)
    .join('');
}
