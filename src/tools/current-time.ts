import { z } from 'zod';

import { defineTool, ok } from './tool.js';

/** A harmless read-only tool: lets the model ask for the date (and tests exercise the loop). */
export function createCurrentTimeTool(now: () => Date = () => new Date()) {
  return defineTool({
    name: 'current_time',
    description: 'Returns the current date and time in UTC (ISO 8601). Takes no arguments.',
    schema: z.strictObject({}),
    readOnly: true,
    async execute() {
      return ok({ now: now().toISOString() });
    },
  });
}
