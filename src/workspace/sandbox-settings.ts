import { z } from 'zod';

import type { SandboxSettings } from './agent/sandbox.js';

/**
 * The workspace sandbox's environment variables (issue #8), spread into config.ts's schema so
 * they are parsed and validated with everything else. See agent/sandbox.ts for what each does.
 */

const MIB = 1024 * 1024;
/** A limit: a non-negative integer, 0 meaning none. */
const limit = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

export const workspaceSandboxEnv = {
  /**
   * auto (default): commands run in bubblewrap when a start-time probe shows it works; otherwise
   * the server says so loudly and refuses commands in MEMBER chats (ADMIN chats still run them,
   * unsandboxed). bwrap: required, the server refuses to start without it. none: commands run
   * unsandboxed for everyone, as the operator asked.
   */
  WORKSPACE_SANDBOX: z.enum(['auto', 'bwrap', 'none']).default('auto'),
  /**
   * Network of sandboxed commands. none (default): an empty network namespace (loopback only);
   * nothing on the host or beyond is reachable. host: the host's network, loopback services
   * (Postgres, Redis, the API) included. outbound: the internet through slirp4netns, with the
   * host's loopback and the private, link-local and CGNAT ranges unreachable.
   */
  WORKSPACE_NETWORK: z.enum(['none', 'outbound', 'host']).default('none'),
  /** RLIMIT_NPROC of sandboxed commands (0: none). Not enforced for root, see sandbox.ts. */
  WORKSPACE_LIMIT_PROCESSES: limit(1024),
  /** RLIMIT_DATA of each sandboxed process in MiB (0: none). */
  WORKSPACE_LIMIT_MEMORY_MB: limit(4096),
  /** RLIMIT_CPU of each sandboxed process in seconds of CPU time (0: none). */
  WORKSPACE_LIMIT_CPU_SECONDS: limit(3600),
  /** RLIMIT_FSIZE of sandboxed processes in MiB: largest file one may write (0: none). */
  WORKSPACE_LIMIT_FILE_SIZE_MB: limit(1024),
};

type SandboxEnv = {
  [K in keyof typeof workspaceSandboxEnv]: z.output<(typeof workspaceSandboxEnv)[K]>;
};

export function sandboxSettingsOf(config: SandboxEnv): SandboxSettings {
  return {
    mode: config.WORKSPACE_SANDBOX,
    network: config.WORKSPACE_NETWORK,
    limits: {
      processes: config.WORKSPACE_LIMIT_PROCESSES,
      memoryBytes: config.WORKSPACE_LIMIT_MEMORY_MB * MIB,
      cpuSeconds: config.WORKSPACE_LIMIT_CPU_SECONDS,
      fileSizeBytes: config.WORKSPACE_LIMIT_FILE_SIZE_MB * MIB,
    },
  };
}
