import { createHash, randomUUID } from 'node:crypto';
import type { Deps, Viewer } from '../deps.js';
import { isUniqueViolation } from '../db/errors.js';
import { isUuid } from '../db/ids.js';
import type { PrismaClient, Prisma } from '../generated/prisma/client.js';
import { loadChatForWrite } from '../chats/access.js';
import type { FilePart } from '../chats/parts.js';
import { badInput, notFound } from '../errors.js';
import { sniffMediaType } from './sniff.js';

/**
 * Attachments (issue #10): files a user uploads, stored in the database and referenced by id from
 * their messages. A file belongs to its uploader: anyone else's id is NOT_FOUND, like one that
 * does not exist. The same bytes uploaded twice by one owner are one row (per-owner SHA-256).
 */

/** 10 MB: a screenshot, a log or a PDF; larger ones belong in the workspace. */
export const DEFAULT_FILE_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MESSAGE_MAX_FILES = 20;
const NAME_MAX = 255;
const DEFAULT_NAME = 'file';
/** Where a file is downloaded (GET, bearer token of its owner). */
export const FILES_PATH = '/files/';

export interface FileLimits {
  /** FILE_MAX_BYTES, default 10 MB. */
  maxBytes: number;
  /** MESSAGE_MAX_FILES, default 20. */
  maxFilesPerMessage: number;
}

type Db = PrismaClient | Prisma.TransactionClient;

/** The limits as configured (FILE_MAX_BYTES, MESSAGE_MAX_FILES). */
export function fileLimits(deps: Pick<Deps, 'config'>): FileLimits {
  return {
    maxBytes: deps.config.FILE_MAX_BYTES,
    maxFilesPerMessage: deps.config.MESSAGE_MAX_FILES,
  };
}

/** What the API and messages show of a file: everything but its bytes. */
const FILE_META = {
  id: true,
  ownerId: true,
  name: true,
  mediaType: true,
  size: true,
  sha256: true,
  createdAt: true,
} satisfies Prisma.ChatFileSelect;

export type FileMeta = Prisma.ChatFileGetPayload<{ select: typeof FILE_META }>;

export function fileUrl(id: string): string {
  return `${FILES_PATH}${id}`;
}

export function filePart(file: Pick<FileMeta, 'id' | 'name' | 'mediaType' | 'size'>): FilePart {
  return {
    type: 'FILE',
    fileId: file.id,
    name: file.name,
    mediaType: file.mediaType,
    size: file.size,
    url: fileUrl(file.id),
  };
}

function cleanName(name: string | null | undefined): string {
  // Only the base name: a path from the client's disk says nothing useful and may mislead.
  const base = (name ?? '').split(/[\\/]/).pop()?.trim() ?? '';
  const printable = [...base].filter((c) => c >= ' ' && c !== '\u007f').join('');
  return printable.slice(0, NAME_MAX) || DEFAULT_NAME;
}

/**
 * The viewer's files with these ids, in the order given (duplicates dropped). Any id that is not
 * one of the viewer's files is NOT_FOUND; more than the per-message limit is BAD_USER_INPUT.
 */
export async function loadOwnedFiles(
  db: Db,
  viewer: Viewer,
  ids: readonly string[],
  limits: FileLimits,
): Promise<FileMeta[]> {
  const unique = [...new Set(ids)];
  if (unique.length > limits.maxFilesPerMessage) {
    throw badInput('fileIds', `A message may carry at most ${limits.maxFilesPerMessage} files`);
  }
  if (unique.length === 0) return [];
  if (!unique.every(isUuid)) throw notFound('File');
  const files = await db.chatFile.findMany({
    where: { id: { in: unique }, ownerId: viewer.id },
    select: FILE_META,
  });
  if (files.length !== unique.length) throw notFound('File');
  const byId = new Map(files.map((file) => [file.id, file]));
  return unique.map((id) => byId.get(id)!);
}

/** Links files to a chat (Chat.files); linking twice is a no-op. */
export async function linkFiles(db: Db, chatId: string, files: readonly { id: string }[]) {
  if (files.length === 0) return;
  await db.chatFileLink.createMany({
    data: files.map((file) => ({ chatId, fileId: file.id })),
    skipDuplicates: true,
  });
}

export function createFileService(deps: Pick<Deps, 'prisma'> & { limits: FileLimits }) {
  const { prisma, limits } = deps;

  return {
    limits,

    /**
     * Stores an upload: size checked first, then the media type sniffed from the bytes (an
     * unknown kind is refused); nothing is stored on refusal. With chatId (one of the viewer's
     * chats) the file is linked to it.
     */
    async upload(
      viewer: Viewer,
      input: { name?: string | null; data: Uint8Array; chatId?: string | null },
    ): Promise<FileMeta> {
      const { data } = input;
      if (data.length > limits.maxBytes) {
        throw badInput('file', `The file is larger than the limit of ${limits.maxBytes} bytes`);
      }
      if (data.length === 0) throw badInput('file', 'The file is empty');
      const mediaType = sniffMediaType(data);
      if (!mediaType) {
        throw badInput(
          'file',
          'Unsupported file type: images (PNG, JPEG, GIF, WebP), PDF and UTF-8 text are accepted',
        );
      }
      const chat = input.chatId ? await loadChatForWrite(prisma, viewer, input.chatId) : null;
      const sha256 = createHash('sha256').update(data).digest('hex');
      const existing = () =>
        prisma.chatFile.findUnique({
          where: { ownerId_sha256: { ownerId: viewer.id, sha256 } },
          select: FILE_META,
        });
      let file = await existing();
      if (!file) {
        try {
          file = await prisma.chatFile.create({
            data: {
              id: randomUUID(),
              ownerId: viewer.id,
              name: cleanName(input.name),
              mediaType,
              size: data.length,
              sha256,
              data: Buffer.from(data),
            },
            select: FILE_META,
          });
        } catch (error) {
          // The same bytes uploaded concurrently: the other upload's row is this one.
          if (!isUniqueViolation(error)) throw error;
          file = await existing();
          if (!file) throw error;
        }
      }
      if (chat) await linkFiles(prisma, chat.id, [file]);
      return file;
    },

    /** The file with its bytes, for its owner only; null otherwise (the route answers 404). */
    download(ownerId: string, id: string) {
      if (!isUuid(id)) return Promise.resolve(null);
      return prisma.chatFile.findFirst({
        where: { id, ownerId },
        select: { ...FILE_META, data: true },
      });
    },

    /** Files of a chat (Chat.files), oldest link first. */
    filesOfChat(chatId: string) {
      return prisma.chatFile.findMany({
        where: { chats: { some: { chatId } } },
        select: FILE_META,
        orderBy: { createdAt: 'asc' },
      });
    },
  };
}

export type FileService = ReturnType<typeof createFileService>;
