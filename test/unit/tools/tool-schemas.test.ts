import { describe, expect, it } from 'vitest';

import type { ChatService } from '../../../src/chats/service.js';
import type { Deps } from '../../../src/deps.js';
import { createLogger } from '../../../src/logger.js';
import { createToolRegistry } from '../../../src/tools/index.js';
import type { JsonSchema, Tool, ToolContext } from '../../../src/tools/tool.js';
import type { WorkspaceManager } from '../../../src/workspace/service.js';

/**
 * The JSON schema a tool offers the model and the parser its arguments go through must state the
 * same rules (they drifted when both were written by hand: execute.workdir, wait_agent's bounds).
 * For every registered tool, arguments are derived from its JSON schema — a minimal valid call,
 * then each bound, requirement and type broken or met one at a time — and its parser must accept
 * exactly the ones the JSON schema accepts.
 */

/** Dependencies no test here may reach: parsing must decide before a tool runs. */
const unused = <T extends object>(name: string) =>
  new Proxy({} as T, {
    get(_target, property) {
      throw new Error(`${name}.${String(property)} must not be called`);
    },
  });
const registry = createToolRegistry({} as Deps, {
  workspaces: unused<WorkspaceManager>('WorkspaceManager'),
  chats: { events: unused('ChatEvents') } as unknown as ChatService,
});
const tools: Tool[] = registry.availableFor({ mode: 'DEFAULT', isSubagent: false });

interface Probe {
  what: string;
  value: unknown;
  valid: boolean;
}

const num = (schema: JsonSchema, key: string) =>
  typeof schema[key] === 'number' ? (schema[key] as number) : undefined;

/** The smallest value the JSON schema accepts. */
function example(schema: JsonSchema): unknown {
  if (Array.isArray(schema['enum'])) return schema['enum'][0];
  switch (schema['type']) {
    case 'string':
      return 'x'.repeat(Math.max(1, num(schema, 'minLength') ?? 0));
    case 'number':
    case 'integer': {
      const exclusive = num(schema, 'exclusiveMinimum');
      return num(schema, 'minimum') ?? (exclusive === undefined ? 1 : exclusive + 1);
    }
    case 'boolean':
      return false;
    case 'array':
      return Array.from({ length: Math.max(1, num(schema, 'minItems') ?? 0) }, () =>
        example(schema['items'] as JsonSchema),
      );
    case 'object': {
      const properties = (schema['properties'] ?? {}) as Record<string, JsonSchema>;
      const required = (schema['required'] ?? []) as string[];
      return Object.fromEntries(required.map((key) => [key, example(properties[key]!)]));
    }
    default:
      throw new Error(`No example for schema ${JSON.stringify(schema)}`);
  }
}

/** Values around each rule of `schema`, each marked with what the JSON schema says of it. */
function probes(schema: JsonSchema, where: string): Probe[] {
  const at = (what: string, value: unknown, valid: boolean) => ({
    what: `${where} ${what}`,
    value,
    valid,
  });
  const list: Probe[] = [at('minimal', example(schema), true)];
  if (Array.isArray(schema['enum'])) {
    for (const value of schema['enum']) list.push(at(`= ${String(value)}`, value, true));
    list.push(at('outside the enum', 'not-one-of-them', false));
    return list;
  }
  const min = num(schema, 'minimum');
  const max = num(schema, 'maximum');
  const exclusiveMin = num(schema, 'exclusiveMinimum');
  switch (schema['type']) {
    case 'string': {
      list.push(at('of another type', 42, false));
      const minLength = num(schema, 'minLength');
      const maxLength = num(schema, 'maxLength');
      if (minLength) list.push(at('below minLength', 'x'.repeat(minLength - 1), false));
      if (maxLength !== undefined) {
        list.push(at('at maxLength', 'x'.repeat(maxLength), true));
        list.push(at('above maxLength', 'x'.repeat(maxLength + 1), false));
      }
      break;
    }
    case 'number':
    case 'integer': {
      list.push(at('of another type', 'one', false));
      if (min !== undefined) list.push(at('below minimum', min - 1, false));
      if (exclusiveMin !== undefined) list.push(at('at exclusiveMinimum', exclusiveMin, false));
      if (max !== undefined) {
        list.push(at('at maximum', max, true));
        list.push(at('above maximum', max + 1, false));
      }
      const low = example(schema) as number;
      list.push(at('fractional', low + 0.5, schema['type'] === 'number'));
      break;
    }
    case 'boolean':
      list.push(at('true', true, true), at('of another type', 'yes', false));
      break;
    case 'array': {
      const items = schema['items'] as JsonSchema;
      const minItems = num(schema, 'minItems');
      const maxItems = num(schema, 'maxItems');
      const base = example(schema) as unknown[];
      list.push(at('of another type', {}, false));
      if (minItems) list.push(at('below minItems', base.slice(1), false));
      if (maxItems !== undefined) {
        list.push(
          at(
            'at maxItems',
            Array.from({ length: maxItems }, () => example(items)),
            true,
          ),
        );
        list.push(
          at(
            'above maxItems',
            Array.from({ length: maxItems + 1 }, () => example(items)),
            false,
          ),
        );
      }
      for (const item of probes(items, `${where}[0]`)) {
        list.push({ ...item, value: [item.value, ...base.slice(1)] });
      }
      break;
    }
    case 'object': {
      const properties = (schema['properties'] ?? {}) as Record<string, JsonSchema>;
      const required = new Set((schema['required'] ?? []) as string[]);
      const base = example(schema) as Record<string, unknown>;
      list.push(at('of another type', [], false));
      if (schema['additionalProperties'] === false) {
        list.push(at('with an unknown property', { ...base, unexpected_argument: 1 }, false));
      }
      for (const [key, property] of Object.entries(properties)) {
        const { [key]: _omitted, ...without } = base;
        list.push(at(`without ${key}`, without, !required.has(key)));
        for (const probe of probes(property, `${where}.${key}`)) {
          list.push({ ...probe, value: { ...base, [key]: probe.value } });
        }
      }
      break;
    }
  }
  return list;
}

describe('tool parameters and parsers agree', () => {
  it('covers every registered tool', () => {
    expect(tools.length).toBeGreaterThanOrEqual(16);
  });

  for (const tool of tools) {
    it(`${tool.name}: offers an object schema without a $schema dialect`, () => {
      expect(tool.parameters['type']).toBe('object');
      expect(tool.parameters).not.toHaveProperty('$schema');
    });

    it(`${tool.name}: parses exactly what its JSON schema accepts`, () => {
      const disagreements = probes(tool.parameters, 'args')
        .filter(({ value }) => value !== null && typeof value === 'object' && !Array.isArray(value))
        .filter(({ value, valid }) => {
          const parsed = tool.parse(value as Record<string, unknown>);
          return (parsed.error === undefined) !== valid;
        })
        .map(({ what, valid }) => `${what}: schema says ${valid ? 'valid' : 'invalid'}`);
      expect(disagreements).toEqual([]);
    });
  }
});

describe('the registry parses before a tool runs', () => {
  const context: ToolContext = {
    chatId: '00000000-0000-4000-8000-000000000001',
    ownerId: '00000000-0000-4000-8000-000000000002',
    rootChatId: '00000000-0000-4000-8000-000000000001',
    isSubagent: false,
    mode: 'DEFAULT',
    workspaceId: null,
    signal: new AbortController().signal,
  };
  const logger = createLogger('silent');

  it('answers bad arguments with an error result naming the argument, for every tool', async () => {
    for (const tool of tools) {
      const outcome = await registry.execute(
        tool.name,
        { unexpected_argument: 1 },
        context,
        logger,
      );
      expect(outcome, tool.name).toMatchObject({
        isError: true,
        result: { error: expect.stringMatching(/^Invalid arguments: /) },
      });
    }
  });

  it("states wait_agent's bounds in the error the model gets", async () => {
    const outcome = await registry.execute(
      'wait_agent',
      { chat_id: context.chatId, timeout_seconds: 0 },
      context,
      logger,
    );
    expect(outcome.result).toEqual({
      error: expect.stringMatching(/^Invalid arguments: timeout_seconds: .*>=1/),
    });
  });
});
