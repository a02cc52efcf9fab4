import { z } from 'zod';

import type { WorkspaceManager } from '../workspace/service.js';
import { defineTool, ok } from './tool.js';
import { PATH_DESCRIPTION, withWorkspace } from './workspace-support.js';

const argsSchema = z.strictObject({
  path: z.string().min(1, 'path must not be empty').describe(PATH_DESCRIPTION),
  content: z.string().describe('The complete new content of the file (UTF-8).'),
});

/** Creates or replaces a file of the chat's workspace. */
export function createWriteFileTool(workspaces: WorkspaceManager) {
  return defineTool({
    name: 'write_file',
    description:
      "Write a file in the chat's workspace, creating it (and its parent directories) or " +
      'replacing its whole content. To change part of an existing file, use edit_files instead. ' +
      'Returns the path and the number of bytes written.',
    schema: argsSchema,
    readOnly: false,
    async execute(args, context) {
      return withWorkspace(workspaces, context, async (client) => {
        const written = await client.writeFile(args, { signal: context.signal });
        return ok({ ok: true, path: written.path, bytes: written.bytes });
      });
    },
  });
}
