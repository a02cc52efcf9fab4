/**
 * The environment of a workspace process is built from scratch, never copied from the agent's own:
 * an agent embedded in the server runs beside DATABASE_URL, SECRET_KEY and provider keys, and a
 * model-written `env` or `cat /proc/self/environ` must not see them.
 */

/** Used when the agent itself has no PATH. */
export const FALLBACK_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Nothing may wait for a human: no pager, no editor, no credential prompt, no colour codes in the
 * captured output, and package managers answer yes.
 */
export const NON_INTERACTIVE_ENV: Readonly<Record<string, string>> = {
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  TERM: 'dumb',
  PAGER: 'cat',
  GIT_PAGER: 'cat',
  GIT_TERMINAL_PROMPT: '0',
  GIT_EDITOR: 'true',
  EDITOR: 'true',
  VISUAL: 'true',
  NO_COLOR: '1',
  CI: '1',
  DEBIAN_FRONTEND: 'noninteractive',
  npm_config_yes: 'true',
};

export interface ProcessEnvInput {
  /** Workspace root, which is also HOME so dotfiles a command writes stay in the workspace. */
  root: string;
  /** PATH to hand on (the agent's own, normally); FALLBACK_PATH when undefined. */
  path: string | undefined;
  /** Allow-listed additions from the agent's options. */
  agentEnv?: Readonly<Record<string, string>>;
  /** Additions from the request; they win over everything else. */
  requestEnv?: Readonly<Record<string, string>>;
}

export function buildProcessEnv(input: ProcessEnvInput): Record<string, string> {
  return {
    PATH: input.path ?? FALLBACK_PATH,
    HOME: input.root,
    ...NON_INTERACTIVE_ENV,
    ...input.agentEnv,
    ...input.requestEnv,
  };
}
