/** B8: a chat's title starts as the first 60 characters of its first message. */
export const INITIAL_TITLE_LENGTH = 60;
export const MAX_TITLE_LENGTH = 200;
const FALLBACK_TITLE = 'New chat';

export function initialTitle(text: string): string {
  const collapsed = text.replace(/\s+/g, ' ').trim();
  return [...collapsed].slice(0, INITIAL_TITLE_LENGTH).join('') || FALLBACK_TITLE;
}
