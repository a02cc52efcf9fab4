import { z } from 'zod';

import type { WorkspaceManager } from '../workspace/service.js';
import { ok, type Tool } from './tool.js';
import { parseArgs, PATH_DESCRIPTION, withWorkspace } from './workspace-support.js';

const argsSchema = z.strictObject({
  path: z.string().min(1, 'path must not be empty'),
  offset: z.number().int().positive().optional(),
  limit: z.number().int().positive().optional(),
});

/** Reads a text file of the chat's workspace, whole or a range of lines. */
export function createReadFileTool(workspaces: WorkspaceManager): Tool {
  return {
    name: 'read_file',
    description:
      "Read a text file from the chat's workspace. Returns the content with line numbers " +
      'described by start_line/end_line and the total_lines of the file. For large files, read a ' +
      'range with offset and limit instead of the whole file; when truncated is true the byte ' +
      'cap cut the range short, so continue from end_line. Prefer this over `cat` in execute.',
    parameters: {
      type: 'object',
      properties: {
        path: { type: 'string', description: PATH_DESCRIPTION },
        offset: {
          type: 'integer',
          minimum: 1,
          description: '1-based number of the first line to return. Default 1.',
        },
        limit: {
          type: 'integer',
          minimum: 1,
          description: 'Most lines to return. Default: to the end of the file.',
        },
      },
      required: ['path'],
      additionalProperties: false,
    },
    readOnly: true,
    async execute(args, context) {
      const parsed = parseArgs(argsSchema, args);
      if (parsed.error) return parsed.error;
      return withWorkspace(workspaces, context, async (client) => {
        const file = await client.readFile(parsed.data, { signal: context.signal });
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
  };
}
