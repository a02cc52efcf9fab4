import type { Logger } from '../logger.js';
import { offeredInPlanMode, planModeViolation } from './plan-mode.js';
import { EXPLORE_TOOLS } from './spawn-explore-agent.js';
import { fail, toToolSpec, type Tool, type ToolContext, type ToolOutcome } from './tool.js';

/**
 * The tools of one turn: filtered for the chat (PLAN mode, subagents) so the model is only offered
 * what it may use, and checked again at execution so a hallucinated call cannot bypass the filter.
 */
export class ToolRegistry {
  private readonly tools = new Map<string, Tool>();

  constructor(tools: Tool[] = []) {
    for (const tool of tools) this.register(tool);
  }

  register(tool: Tool) {
    if (this.tools.has(tool.name)) throw new Error(`Tool ${tool.name} registered twice`);
    this.tools.set(tool.name, tool);
  }

  /**
   * This registry plus one turn's own tools (a chat's MCP tools, issue #12). A name already taken
   * keeps its first tool: a remote server cannot shadow a built-in one.
   */
  withTools(extra: readonly Tool[]): ToolRegistry {
    if (extra.length === 0) return this;
    const turn = new ToolRegistry([...this.tools.values()]);
    for (const tool of extra) if (!turn.tools.has(tool.name)) turn.register(tool);
    return turn;
  }

  /** The tools a chat may use: PLAN allows read-only and plan tools; subagents lose root-only ones. */
  availableFor(context: Pick<ToolContext, 'mode' | 'isSubagent' | 'explore'>): Tool[] {
    return [...this.tools.values()].filter(
      (tool) =>
        (context.mode !== 'PLAN' || offeredInPlanMode(tool)) &&
        !(context.isSubagent && tool.rootOnly) &&
        (context.explore !== true || EXPLORE_TOOLS.has(tool.name)),
    );
  }

  specsFor(context: Pick<ToolContext, 'mode' | 'isSubagent' | 'explore'>) {
    return this.availableFor(context).map(toToolSpec);
  }

  async execute(
    name: string,
    args: unknown,
    context: ToolContext,
    logger: Logger,
  ): Promise<ToolOutcome> {
    const tool = this.availableFor(context).find((candidate) => candidate.name === name);
    if (!tool) {
      return this.tools.has(name)
        ? fail(
            `Tool ${name} is not available in this chat${context.mode === 'PLAN' ? ' (PLAN mode)' : ''}`,
          )
        : fail(`Tool not found: ${name}`);
    }
    if (!args || typeof args !== 'object' || Array.isArray(args)) {
      return fail('Tool arguments must be a JSON object');
    }
    try {
      const refused = planModeViolation(name, args as Record<string, unknown>, context);
      if (refused) return fail(refused);
      const parsed = tool.parse(args as Record<string, unknown>);
      if (parsed.error) return parsed.error;
      return await tool.execute(parsed.data, context);
    } catch (error) {
      if (context.signal.aborted)
        return fail('Tool call was interrupted before it produced a result');
      logger.warn('tool threw', { tool: name, error });
      return fail(`Tool ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
