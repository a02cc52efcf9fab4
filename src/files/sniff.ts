/**
 * The media type of an upload, from its first bytes: what the client says is never trusted, since
 * it decides how the file is shown to a model. Images and PDFs by magic number; anything else is
 * text when it is valid UTF-8 without NUL bytes; otherwise it is refused (null).
 */
export type SniffedMediaType =
  'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp' | 'application/pdf' | 'text/plain';

const startsWith = (data: Uint8Array, bytes: readonly number[], offset = 0) =>
  data.length >= offset + bytes.length && bytes.every((b, i) => data[offset + i] === b);

const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG = [0xff, 0xd8, 0xff];
const GIF87 = ascii('GIF87a');
const GIF89 = ascii('GIF89a');
const RIFF = ascii('RIFF');
const WEBP = ascii('WEBP');
const WEBP_TAG_OFFSET = 8;
const PDF = ascii('%PDF-');

export function sniffMediaType(data: Uint8Array): SniffedMediaType | null {
  if (startsWith(data, PNG)) return 'image/png';
  if (startsWith(data, JPEG)) return 'image/jpeg';
  if (startsWith(data, GIF87) || startsWith(data, GIF89)) return 'image/gif';
  if (startsWith(data, RIFF) && startsWith(data, WEBP, WEBP_TAG_OFFSET)) return 'image/webp';
  if (startsWith(data, PDF)) return 'application/pdf';
  return isText(data) ? 'text/plain' : null;
}

export const IMAGE_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
]);

function isText(data: Uint8Array): boolean {
  if (data.length === 0 || data.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(data);
    return true;
  } catch {
    return false;
  }
}
