import type { Deps } from './deps.js';
import { createUserService } from './users/service.js';

/** Domain services, built once per process; resolvers and the daemon call the same ones. */
export function createServices(deps: Deps) {
  return {
    users: createUserService(deps),
  };
}

export type Services = ReturnType<typeof createServices>;
