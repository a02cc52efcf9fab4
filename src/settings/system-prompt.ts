import type { Sql } from '../db/sql.js';

/**
 * The built-in system prompt (B23): what the agent is told when the admin has not set one. The
 * daemon adds workspace instructions and the history after it; tool details live in each tool's
 * own description, so this stays about how to work, not about argument shapes.
 */
export const DEFAULT_SYSTEM_PROMPT = `You are a capable software engineering agent working for the user in this conversation.

How to work:
- Understand before acting. Read the relevant files and explore the project before you change it; do not guess at code you have not seen.
- Make focused, minimal changes that fit the existing style, and keep the code working at every step.
- Verify your work: build, run the tests or execute the code, and read the output. If something fails, find the cause and fix it rather than working around it.
- When a request is ambiguous or a decision is costly to undo, ask the user a short question instead of assuming.
- Be concise. Report what you did, what you verified, and anything left open; do not paste whole files back unless asked.

Tools:
- Use the file tools to read, write and edit files; prefer exact edits to rewriting whole files.
- Use command execution for builds, tests, git and other shell work. Commands are non-interactive; run long-lived processes in the background and check their output later.
- When there is no workspace yet and the task needs one, list the available templates and create a workspace from the one that fits.
- For large tasks with independent parts, you may spawn subagents, give each a clear, self-contained task, and wait for their results before you combine them.
- A tool error is information: read it, adjust and try again, or explain why you cannot.

Safety:
- Stay inside the workspace. Do not run destructive commands (deleting data, force-pushing, changing credentials) unless the user asked for exactly that.
- Never reveal secrets such as API keys or tokens, and do not write them into files or output.`;

/** site_configs keys the effective prompt is built from (written by the settings services). */
const BASE_KEY = 'system_prompt';
const ADDITION_KEY = 'system_prompt_addition';
/** Row names of the user's settings in turnSettingsFor's result (never site_configs keys). */
const INSTRUCTIONS_ROW = 'user:instructions';
const THRESHOLDS_ROW = 'user:compaction_thresholds';

/** What a turn reads of the settings (issue #13), in one statement. */
export interface TurnSettings {
  systemPrompt: string;
  /** The owner's compaction thresholds by model config id (their overrides). */
  compactionThresholds: Record<string, number>;
}

/**
 * The system prompt a user's chat runs with (issue #13): the admin's prompt (else the built-in
 * default: `setSystemPrompt` replaces it), then the admin's additional text, then the owner's
 * personal instructions; and the owner's compaction overrides. One statement per turn, as the
 * system prompt alone cost before (issue #9 counts them).
 */
export async function turnSettingsFor(sql: Sql, ownerId: string): Promise<TurnSettings> {
  const rows = await sql.query<{ key: string; value: string }>`
    SELECT key, value FROM site_configs WHERE key IN (${BASE_KEY}, ${ADDITION_KEY})
    UNION ALL
    SELECT ${INSTRUCTIONS_ROW}, instructions FROM user_settings WHERE user_id = ${ownerId}::uuid
    UNION ALL
    SELECT ${THRESHOLDS_ROW}, compaction_thresholds::text FROM user_settings
    WHERE user_id = ${ownerId}::uuid`;
  const stored = new Map(rows.map((row) => [row.key, row.value]));
  const thresholds = JSON.parse(stored.get(THRESHOLDS_ROW) ?? '{}') as unknown;
  return {
    systemPrompt: composeSystemPrompt({
      base: stored.get(BASE_KEY) ?? DEFAULT_SYSTEM_PROMPT,
      addition: stored.get(ADDITION_KEY) ?? '',
      personalInstructions: stored.get(INSTRUCTIONS_ROW) ?? '',
    }),
    compactionThresholds:
      thresholds && typeof thresholds === 'object' && !Array.isArray(thresholds)
        ? (thresholds as Record<string, number>)
        : {},
  };
}

/** The system prompt alone (see turnSettingsFor). */
export async function systemPromptFor(sql: Sql, ownerId: string): Promise<string> {
  return (await turnSettingsFor(sql, ownerId)).systemPrompt;
}

export function composeSystemPrompt(parts: {
  base: string;
  addition: string;
  personalInstructions: string;
}): string {
  const sections = [parts.base];
  if (parts.addition.trim() !== '') sections.push(parts.addition.trim());
  if (parts.personalInstructions.trim() !== '') {
    sections.push(
      "The user's personal instructions (follow them unless the task says otherwise):\n" +
        parts.personalInstructions.trim(),
    );
  }
  return sections.join('\n\n');
}
