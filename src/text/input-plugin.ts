import {
  GraphQLError,
  visit,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { ErrorCode } from '../errors.js';
import { hasUnstorableText } from './storable.js';

/**
 * Refuses API input that Postgres cannot store (issue #8, row 10): a NUL character or a lone
 * UTF-16 surrogate anywhere in an operation's string arguments (literals in the document, e.g.
 * a `"\u0000"` escape, and variable values, nested inputs and lists included) ends the operation
 * with BAD_USER_INPUT before any resolver runs, naming the field in `extensions.field` (the
 * argument or input field that holds it, as the services name theirs). Nothing is changed.
 *
 * Generic on purpose: message text, labels, titles, search, display names and every String
 * argument added later are covered without each service remembering to check. It hooks
 * execution and subscription, so HTTP and graphql-ws (which runs Yoga's envelop) both get it.
 * The parser already rejects raw lone surrogates in the query text itself.
 */
export function useStorableInput(): Plugin {
  const check = (args: ExecutionArgs, stop: (result: ExecutionResult) => void): void => {
    const { literal, variableFields } = scanDocument(args.document);
    const field = literal ?? findInVariables(args.variableValues ?? {}, variableFields);
    if (field === undefined) return;
    stop({
      errors: [
        new GraphQLError(
          `${field} contains a NUL character or an unpaired surrogate, which cannot be stored`,
          { extensions: { code: 'BAD_USER_INPUT' satisfies ErrorCode, field } },
        ),
      ],
    });
  };
  return {
    onExecute: ({ args, setResultAndStopExecution }) => check(args, setResultAndStopExecution),
    onSubscribe: ({ args, setResultAndStopExecution }) => check(args, setResultAndStopExecution),
  };
}

/**
 * The argument or input field name of the first bad string literal in the document, and for
 * each variable the argument or input field it is passed to (a `$name` given to `displayName`
 * is reported as `displayName`).
 */
function scanDocument(document: DocumentNode) {
  const names: string[] = [];
  const variableFields = new Map<string, string>();
  let literal: string | undefined;
  const named = {
    enter: (node: { name: { value: string } }) => void names.push(node.name.value),
    leave: () => void names.pop(),
  };
  visit(document, {
    Argument: named,
    ObjectField: named,
    StringValue(node) {
      if (literal === undefined && hasUnstorableText(node.value)) literal = names.at(-1);
    },
    Variable(node) {
      const at = names.at(-1);
      if (at !== undefined && !variableFields.has(node.name.value)) {
        variableFields.set(node.name.value, at);
      }
    },
  });
  return { literal, variableFields };
}

function findInVariables(
  variables: Record<string, unknown>,
  variableFields: Map<string, string>,
): string | undefined {
  for (const [name, value] of Object.entries(variables)) {
    const found = findInValue(value, variableFields.get(name) ?? name);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The key (variable or input field name) holding the first bad string; keys are checked too. */
function findInValue(value: unknown, name: string): string | undefined {
  if (typeof value === 'string') return hasUnstorableText(value) ? name : undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = findInValue(item, name);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (hasUnstorableText(key)) return name;
      const found = findInValue(item, key);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
