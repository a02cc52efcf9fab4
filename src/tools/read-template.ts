import { z } from 'zod';

import { listTemplateFiles, readTemplateReadme } from '../workspace/templates.js';
import type { WorkspaceManager } from '../workspace/service.js';
import { defineTool, ok } from './tool.js';
import { failureOf } from './workspace-support.js';

const argsSchema = z.strictObject({
  template: z
    .string()
    .min(1, 'template must not be empty')
    .describe('The template name, exactly as list_templates shows it.'),
});

/** One template's description, files and README. */
export function createReadTemplateTool(workspaces: WorkspaceManager) {
  return defineTool({
    name: 'read_template',
    description:
      'Describe one workspace template: its display name, description, startup script (run ' +
      'when a workspace is created from it), the files it contains and its README. Returns ' +
      '{template: {name, display_name, description, startup_script}, files, files_truncated, ' +
      'readme}.',
    schema: argsSchema,
    readOnly: true,
    rootOnly: true,
    async execute(args) {
      try {
        const template = await workspaces.readTemplate(args.template);
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
  });
}
