import { ok, type Tool } from './tool.js';

/** A harmless read-only tool: lets the model ask for the date (and tests exercise the loop). */
export function createCurrentTimeTool(now: () => Date = () => new Date()): Tool {
  return {
    name: 'current_time',
    description: 'Returns the current date and time in UTC (ISO 8601). Takes no arguments.',
    parameters: { type: 'object', properties: {}, additionalProperties: false },
    readOnly: true,
    async execute() {
      return ok({ now: now().toISOString() });
    },
  };
}
