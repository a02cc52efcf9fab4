import { builder } from './builder.js';
import './types/node.js';
import './types/user.js';

/** Imports every type family (each registers itself on the builder) and builds the schema. */
export function buildSchema() {
  return builder.toSchema({ sortSchema: false });
}
