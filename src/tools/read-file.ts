import { z } from 'zod';

import type { WorkspaceManager } from '../workspace/service.js';
import { defineTool, ok } from './tool.js';
import { PATH_DESCRIPTION, withWorkspace } from './workspace-support.js';

const argsSchema = z.strictObject({
  path: z.string().min(1, 'path must not be empty').describe(PATH_DESCRIPTION),
  offset: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('1-based number of the first line to return. Default 1.'),
  limit: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Most lines to return. Default: to the end of the file.'),
});

/** Reads a text file of the chat's workspace, whole or a range of lines. */
export function createReadFileTool(workspaces: WorkspaceManager) {
  return defineTool({
    name: 'read_file',
    description:
      "Read a text file from the chat's workspace. Returns the content with line numbers " +
      'described by start_line/end_line and the total_lines of the file. For large files, read a ' +
      'range with offset and limit instead of the whole file; when truncated is true the byte ' +
      'cap cut the range short, so continue from end_line. Prefer this over `cat` in execute.',
    schema: argsSchema,
    readOnly: true,
    async execute(args, context) {
      return withWorkspace(workspaces, context, async (client) => {
        const file = await client.readFile(args, { signal: context.signal });
        return ok({
          path: file.path,
          content: file.content,
          start_line: file.startLine,
          end_line: file.endLine,
          total_lines: file.totalLines,
          truncated: file.truncated,
        });
      });
    },
  });
}
