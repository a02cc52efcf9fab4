import { z } from 'zod';

import { WorkspaceAgentError } from '../workspace/agent-client.js';
import type { WorkspaceManager } from '../workspace/service.js';
import { defineTool, ok } from './tool.js';
import { PATH_DESCRIPTION, withWorkspace } from './workspace-support.js';

const argsSchema = z.strictObject({
  files: z
    .array(
      z.strictObject({
        path: z.string().min(1, 'path must not be empty').describe(PATH_DESCRIPTION),
        edits: z
          .array(
            z.strictObject({
              search: z
                .string()
                .min(1, 'search must not be empty')
                .describe('Exact text to find; include enough context to be unique.'),
              replace: z.string().describe('Text that replaces it (empty to delete it).'),
              replace_all: z
                .boolean()
                .optional()
                .describe('Replace every occurrence instead of exactly one. Default false.'),
            }),
          )
          .min(1, 'each file needs at least one edit'),
      }),
    )
    .min(1, 'files must name at least one file')
    .describe('The files to edit, each with its edits.'),
});

/** Exact search/replace edits over one or more files, applied all or nothing (B17). */
export function createEditFilesTool(workspaces: WorkspaceManager) {
  return defineTool({
    name: 'edit_files',
    description:
      "Edit existing files in the chat's workspace by exact search and replace. Each edit's " +
      '`search` is literal text (not a pattern, whitespace and indentation included) that must ' +
      'occur exactly once in the file, unless replace_all is true. Edits of one file apply in ' +
      'order, each to the result of the previous one. All edits of all files apply together or ' +
      'none does: if any search text is missing or ambiguous, no file is changed and the error ' +
      'names the file and edit. Read the file first so the search text matches exactly.',
    schema: argsSchema,
    readOnly: false,
    async execute(args, context) {
      return withWorkspace(workspaces, context, async (client) => {
        const result = await client
          .editFiles(
            {
              files: args.files.map((file) => ({
                path: file.path,
                edits: file.edits.map((edit) => ({
                  search: edit.search,
                  replace: edit.replace,
                  replaceAll: edit.replace_all,
                })),
              })),
            },
            { signal: context.signal },
          )
          .catch(renameReplaceAll);
        return ok({ ok: true, files: result.files });
      });
    },
  });
}

/** The agent's messages name its own option; the model knows it as replace_all. */
function renameReplaceAll(error: unknown): never {
  if (error instanceof WorkspaceAgentError && error.message.includes('replaceAll')) {
    throw new WorkspaceAgentError(
      error.code,
      error.status,
      error.message.replaceAll('replaceAll', 'replace_all'),
      error.details,
    );
  }
  throw error;
}
