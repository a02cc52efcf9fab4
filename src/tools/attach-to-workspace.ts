import { z } from 'zod';

import { isUuid } from '../db/ids.js';
import type { Deps } from '../deps.js';
import type { WorkspaceManager } from '../workspace/service.js';
import { defineTool, fail, ok } from './tool.js';
import { PATH_DESCRIPTION, withWorkspace } from './workspace-support.js';

const argsSchema = z.strictObject({
  file_id: z
    .string()
    .min(1, 'file_id must not be empty')
    .describe('The fileId of a FILE part of a message in this conversation.'),
  path: z.string().min(1, 'path must not be empty').describe(PATH_DESCRIPTION),
  overwrite: z
    .boolean()
    .optional()
    .describe('Replace an existing file at path. Default false: an existing file is kept.'),
});

const NOT_IN_CHAT =
  'No such file in this conversation: file_id must be the fileId of a file attached to a message of this chat or its agents';

/**
 * Issue #10: copies a file attached to a message (src/files) into the chat's workspace, bytes as
 * uploaded. Only a file the chat family's live messages reference, owned by the chat's owner, can
 * be attached: a file id from anywhere else is "not in this conversation", whether it exists or
 * not. Not read-only, so PLAN mode does not offer it.
 */
export function createAttachToWorkspaceTool(
  deps: Pick<Deps, 'prisma'>,
  workspaces: WorkspaceManager,
) {
  const { prisma } = deps;

  /** The file's bytes when the chat family's messages reference it; null otherwise. */
  async function attachedFile(fileId: string, context: { ownerId: string; rootChatId: string }) {
    if (!isUuid(fileId)) return null;
    const referenced = await prisma.chatMessage.findFirst({
      where: {
        deleted: false,
        role: 'USER',
        chat: { OR: [{ id: context.rootChatId }, { rootId: context.rootChatId }] },
        parts: { array_contains: [{ type: 'FILE', fileId }] },
      },
      select: { id: true },
    });
    if (!referenced) return null;
    return prisma.chatFile.findFirst({
      where: { id: fileId, ownerId: context.ownerId },
      select: { name: true, mediaType: true, size: true, data: true },
    });
  }

  return defineTool({
    name: 'attach_to_workspace',
    description:
      "Copy a file the user attached to a message (a FILE part's fileId) into the chat's " +
      'workspace at path, byte for byte (images and PDFs too), so commands and read_file can use ' +
      'it. Refuses to replace an existing file unless overwrite is true. Returns the path, the ' +
      'number of bytes and the media type.',
    schema: argsSchema,
    readOnly: false,
    async execute(args, context) {
      const file = await attachedFile(args.file_id, context);
      if (!file) return fail(NOT_IN_CHAT, { code: 'NOT_FOUND' });
      return withWorkspace(workspaces, context, async (client) => {
        const written = await client.writeFile(
          {
            path: args.path,
            content: Buffer.from(file.data).toString('base64'),
            encoding: 'base64',
            overwrite: args.overwrite ?? false,
          },
          { signal: context.signal },
        );
        return ok({
          ok: true,
          path: written.path,
          bytes: written.bytes,
          media_type: file.mediaType,
          name: file.name,
        });
      });
    },
  });
}
