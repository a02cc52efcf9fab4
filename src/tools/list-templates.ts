import { z } from 'zod';

import type { WorkspaceManager } from '../workspace/service.js';
import { defineTool, ok } from './tool.js';
import { failureOf } from './workspace-support.js';

const argsSchema = z.strictObject({
  query: z
    .string()
    .optional()
    .describe('Only templates whose name or description contains this text (case-insensitive).'),
});

/** The templates create_workspace can start from. */
export function createListTemplatesTool(workspaces: WorkspaceManager) {
  return defineTool({
    name: 'list_templates',
    description:
      'List the workspace templates create_workspace can start from: {templates: [{name, ' +
      "display_name, description}], count}. Use read_template for a template's files before " +
      'choosing when the description is not enough.',
    schema: argsSchema,
    readOnly: true,
    // Only a root chat can create a workspace, so only it needs the templates (B19).
    rootOnly: true,
    async execute(args) {
      try {
        const templates = await workspaces.listTemplates(args.query);
        return ok({
          templates: templates.map((template) => ({
            name: template.name,
            display_name: template.displayName,
            description: template.description,
          })),
          count: templates.length,
        });
      } catch (error) {
        return failureOf(error);
      }
    },
  });
}
