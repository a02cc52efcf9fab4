import { z } from 'zod';

import type { WorkspaceManager } from '../workspace/service.js';
import { ok, type Tool } from './tool.js';
import { parseArgs, PATH_DESCRIPTION, withWorkspace } from './workspace-support.js';

const argsSchema = z.strictObject({
  path: z.string().min(1, 'path must not be empty'),
  content: z.string(),
});

/** Creates or replaces a file of the chat's workspace. */
export function createWriteFileTool(workspaces: WorkspaceManager): Tool {
  return {
    name: 'write_file',
    description:
      "Write a file in the chat's workspace, creating it (and its parent directories) or " +
      'replacing its whole content. To change part of an existing file, use edit_files instead. ' +
      'Returns the path and the number of bytes written.',
    parameters: {
      type: 'object',
      properties: {
        path: { type: 'string', description: PATH_DESCRIPTION },
        content: { type: 'string', description: 'The complete new content of the file (UTF-8).' },
      },
      required: ['path', 'content'],
      additionalProperties: false,
    },
    readOnly: false,
    async execute(args, context) {
      const parsed = parseArgs(argsSchema, args);
      if (parsed.error) return parsed.error;
      return withWorkspace(workspaces, context, async (client) => {
        const written = await client.writeFile(parsed.data, { signal: context.signal });
        return ok({ ok: true, path: written.path, bytes: written.bytes });
      });
    },
  };
}
