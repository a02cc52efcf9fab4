import type { Deps } from '../deps.js';
import { createCurrentTimeTool } from './current-time.js';
import { ToolRegistry } from './registry.js';

export { ToolRegistry } from './registry.js';
export type { Tool, ToolContext, ToolOutcome } from './tool.js';

/** Every tool the daemon offers, each built from its dependencies. */
export function createToolRegistry(_deps: Deps): ToolRegistry {
  return new ToolRegistry([createCurrentTimeTool()]);
}
