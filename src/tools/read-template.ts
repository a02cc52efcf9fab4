import { z } from 'zod';

import { listTemplateFiles, readTemplateReadme } from '../workspace/templates.js';
import type { WorkspaceManager } from '../workspace/service.js';
import { ok, type Tool } from './tool.js';
import { failureOf, parseArgs } from './workspace-support.js';

const argsSchema = z.strictObject({ template: z.string().min(1, 'template must not be empty') });

/** One template's description, files and README. */
export function createReadTemplateTool(workspaces: WorkspaceManager): Tool {
  return {
    name: 'read_template',
    description:
      'Describe one workspace template: its display name, description, startup script (run ' +
      'when a workspace is created from it), the files it contains and its README. Returns ' +
      '{template: {name, display_name, description, startup_script}, files, files_truncated, ' +
      'readme}.',
    parameters: {
      type: 'object',
      properties: {
        template: {
          type: 'string',
          description: 'The template name, exactly as list_templates shows it.',
        },
      },
      required: ['template'],
      additionalProperties: false,
    },
    readOnly: true,
    rootOnly: true,
    async execute(args) {
      const parsed = parseArgs(argsSchema, args);
      if (parsed.error) return parsed.error;
      try {
        const template = await workspaces.readTemplate(parsed.data.template);
        const { files, truncated } = await listTemplateFiles(template);
        const readme = await readTemplateReadme(template);
        return ok({
          template: {
            name: template.name,
            display_name: template.displayName,
            description: template.description,
            startup_script: template.startupScript,
          },
          files,
          files_truncated: truncated,
          readme: readme ? readme.content : null,
        });
      } catch (error) {
        return failureOf(error);
      }
    },
  };
}
