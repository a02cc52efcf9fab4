import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { AppError, type ErrorCode } from '../errors.js';

/**
 * Maps every error that leaves the API onto the codes of B6. AppErrors keep their message and
 * code; GraphQL's own validation and variable errors are BAD_USER_INPUT; everything else is a bug
 * and becomes INTERNAL with a generic message (no stack, no SQL), logged by the caller.
 */
const GRAPHQL_INPUT_CODES = new Set([
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'GRAPHQL_PARSE_FAILED',
]);

export function toPublicError(error: unknown, onInternal: (error: unknown) => void): GraphQLError {
  const original = unwrap(error);
  if (original instanceof AppError) return appGraphQLError(original, error);
  if (isGraphQLErrorLike(error) && !error.originalError) {
    const code = error.extensions?.['code'];
    if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN' || code === 'NOT_FOUND') return error;
    if (typeof code !== 'string' || GRAPHQL_INPUT_CODES.has(code)) {
      return withCode(error, 'BAD_USER_INPUT');
    }
    return error;
  }
  if (isGraphQLErrorLike(original)) {
    // graphql-js's own errors (variable coercion, a bad enum value): the input's fault.
    const code = original.extensions?.['code'];
    return withCode(
      isGraphQLErrorLike(error) ? error : original,
      typeof code === 'string' && !GRAPHQL_INPUT_CODES.has(code)
        ? (code as ErrorCode)
        : 'BAD_USER_INPUT',
    );
  }
  onInternal(original);
  return new GraphQLError('Internal server error', {
    path: isGraphQLErrorLike(error) ? error.path : undefined,
    extensions: { code: 'INTERNAL' satisfies ErrorCode },
  });
}

export function appGraphQLError(appError: AppError, located?: unknown): GraphQLError {
  const located_ = isGraphQLErrorLike(located) ? located : undefined;
  return new GraphQLError(appError.message, {
    nodes: located_?.nodes,
    path: located_?.path,
    extensions: {
      code: appError.code,
      ...(appError.field ? { field: appError.field } : {}),
      ...(appError.code === 'UNAUTHENTICATED' ? { http: { status: 401 } } : {}),
    },
  });
}

function withCode(error: GraphQLError, code: ErrorCode) {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: { ...error.extensions, code },
  });
}

/**
 * Finds the error a resolver threw. Duck-typed on purpose: under test runners graphql-js can be
 * loaded twice (CJS and ESM), and then `instanceof GraphQLError` is false for the other copy.
 */
function unwrap(error: unknown): unknown {
  let current = error;
  while (isGraphQLErrorLike(current) && current.originalError) current = current.originalError;
  return current;
}

function isGraphQLErrorLike(error: unknown): error is GraphQLError {
  return error instanceof Error && 'extensions' in error && 'path' in error;
}

/**
 * Yoga does not pass GraphQL's own validation and variable-coercion errors through maskError;
 * this plugin gives them the B6 code (BAD_USER_INPUT) too.
 */
export function useInputErrorCodes(): Plugin {
  const recode = (errors: readonly GraphQLError[]) =>
    errors.map((error) => {
      // Resolver errors carry an originalError and are left to maskError.
      if (error.originalError) return error;
      const code = error.extensions?.['code'];
      return typeof code === 'string' && !GRAPHQL_INPUT_CODES.has(code)
        ? error
        : withCode(error, 'BAD_USER_INPUT');
    });
  return {
    onValidate:
      () =>
      ({ result, setResult }) => {
        if (result.length > 0) setResult(recode(result as readonly GraphQLError[]));
      },
    onExecute: () => ({
      onExecuteDone: ({ result, setResult }) => {
        if ('errors' in result && result.errors?.length) {
          setResult({ ...result, errors: recode(result.errors) });
        }
      },
    }),
  };
}
