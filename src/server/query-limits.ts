import { EnvelopArmor } from '@escape.tech/graphql-armor';
import {
  defaultFieldResolver,
  GraphQLError,
  isObjectType,
  Kind,
  type ASTVisitor,
  type GraphQLFieldResolver,
  type GraphQLSchema,
  type ValidationContext,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { MAX_PAGE_SIZE } from '../chats/list.js';
import type { Config } from '../config.js';
import { badInput } from '../errors.js';

export type QueryLimitSettings = Pick<
  Config,
  | 'GRAPHQL_MAX_DEPTH'
  | 'GRAPHQL_MAX_ALIASES'
  | 'GRAPHQL_MAX_DIRECTIVES'
  | 'GRAPHQL_MAX_TOKENS'
  | 'GRAPHQL_MAX_COST'
  | 'GRAPHQL_MAX_QUERY_LENGTH'
>;

/**
 * Static limits on an operation (issue #8, rows 3 and 4), as envelop plugins: HTTP and WebSocket
 * operations both go through Yoga's envelop (websocket.ts calls its parse and validate), so one
 * plugin set guards both. Every violation is refused at parse or validation time, before anything
 * executes, and answers BAD_USER_INPUT (useInputErrorCodes recodes armor's validation errors; the
 * parse-time ones are coded here). The limits are exposed in the message so an honest client can
 * tell which one it hit.
 */
export function queryLimitPlugins(settings: QueryLimitSettings): Plugin[] {
  // Armor throws out of graphql-js's validate() by default, which a caller that expects an error
  // list (the WebSocket path) would see as a crash; reporting the violation as a validation error
  // makes it one more entry of the list, on both transports.
  const report = {
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) =>
        context?.reportError(inputError(error.message)),
    ],
  };
  const { plugins } = new EnvelopArmor({
    maxDepth: { n: settings.GRAPHQL_MAX_DEPTH, flattenFragments: true, ...report },
    maxAliases: { n: settings.GRAPHQL_MAX_ALIASES, ...report },
    maxDirectives: { n: settings.GRAPHQL_MAX_DIRECTIVES, ...report },
    maxTokens: { n: settings.GRAPHQL_MAX_TOKENS },
    costLimit: { maxCost: settings.GRAPHQL_MAX_COST, ...report },
    // Field suggestions stay: the schema is public (introspection is on), hiding them buys nothing.
    blockFieldSuggestion: { enabled: false },
  }).protect();
  // The page-size rule first, so a literal `first: 5000` is named as such rather than only as
  // an excess of cost. useQueryLength after armor's: armor's token-limited parser is then the
  // parseFn it wraps.
  return [
    usePageSizeRule(),
    ...(plugins as Plugin[]),
    useQueryLength(settings.GRAPHQL_MAX_QUERY_LENGTH),
  ];
}

/**
 * Refuses query text above `maxLength` characters before the lexer sees it (the token limit would
 * stop the parser too, but only after it scanned up to the limit), and gives the token limit's
 * parse-time error its code: armor throws a bare "Syntax Error" GraphQLError.
 */
function useQueryLength(maxLength: number): Plugin {
  return {
    onParse: ({ params, parseFn, setParseFn }) => {
      const source = typeof params.source === 'string' ? params.source : params.source.body;
      if (source.length > maxLength) {
        throw inputError(`Query text is longer than ${maxLength} characters`);
      }
      setParseFn((text, options) => {
        try {
          return parseFn(text, options);
        } catch (error) {
          if (error instanceof GraphQLError && !error.extensions['code']) {
            throw inputError(error.message);
          }
          throw error;
        }
      });
    },
  };
}

/** Armor prefixes every refusal with "Syntax Error: " even when the syntax is fine. */
const inputError = (message: string) =>
  new GraphQLError(message.replace(/^Syntax Error: (?=.*limit of \d+)/i, ''), {
    extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
  });

const PAGE_SIZE_ARGUMENTS = ['first', 'last'] as const;
const isPageSizeArgument = (name: string): name is (typeof PAGE_SIZE_ARGUMENTS)[number] =>
  (PAGE_SIZE_ARGUMENTS as readonly string[]).includes(name);
const pageSizeError = (name: string, max: number) =>
  badInput(name, `${name} must be between 0 and ${max}`);

/**
 * Page sizes written into the query are refused at validation, before anything runs; those
 * passed as variables are refused by the resolver wrapper of enforcePageSizeLimit.
 */
function usePageSizeRule(max = MAX_PAGE_SIZE): Plugin {
  const rule = (context: ValidationContext): ASTVisitor => ({
    Argument(node) {
      if (!isPageSizeArgument(node.name.value) || node.value.kind !== Kind.INT) return;
      if (!context.getArgument()) return; // unknown argument: graphql-js reports it
      const value = Number(node.value.value);
      if (value >= 0 && value <= max) return;
      const error = pageSizeError(node.name.value, max);
      context.reportError(
        new GraphQLError(error.message, {
          nodes: [node],
          extensions: { code: error.code, field: error.field },
        }),
      );
    },
  });
  return { onValidate: ({ addValidationRule }) => addValidationRule(rule) };
}

/**
 * Every connection field refuses `first`/`last` outside 0..MAX_PAGE_SIZE with BAD_USER_INPUT
 * naming the argument (issue #8, row 3). Pothos's relay helpers would clamp silently, and a field
 * added later would be unguarded; wrapping every field of the built schema that takes these
 * arguments covers all of them, present and future. Mutates and returns the schema.
 */
export function enforcePageSizeLimit(schema: GraphQLSchema, max = MAX_PAGE_SIZE): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const names = field.args.map((arg) => arg.name).filter(isPageSizeArgument);
      if (names.length === 0) continue;
      const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args: Record<string, unknown>, context, info) => {
        for (const name of names) {
          const value = args[name];
          if (typeof value === 'number' && (value < 0 || value > max)) {
            throw pageSizeError(name, max);
          }
        }
        return resolve(source, args, context, info);
      };
    }
  }
  return schema;
}
