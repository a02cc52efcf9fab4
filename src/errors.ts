/**
 * Expected failures, with the codes of BEHAVIOUR.md B6. Domain services throw these; the GraphQL
 * layer turns them into errors with `extensions.code` (src/graphql/errors.ts). Anything else that
 * is thrown is a bug and reaches clients only as INTERNAL, without its message.
 */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'USAGE_LIMIT_EXCEEDED'
  | 'INTERNAL';

export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);
export const badInput = (field: string, message: string) =>
  new AppError('BAD_USER_INPUT', message, field);
export const forbidden = (message = 'Only an admin can do this') =>
  new AppError('FORBIDDEN', message);
export const conflict = (message: string) => new AppError('CONFLICT', message);
export const unauthenticated = (message = 'A valid bearer token is required') =>
  new AppError('UNAUTHENTICATED', message);
