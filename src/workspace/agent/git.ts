import { spawn } from 'node:child_process';

import { FALLBACK_PATH } from './environment.js';

/**
 * How the agent runs git on a workspace (git changes, checkpoints). git runs in the agent's own
 * process, not in the command sandbox: it needs the agent's state directory (checkpoints), which
 * the sandbox must never see. What a workspace could use to run code through git is shut off:
 * - a clean environment: no system or global config, no askpass, no terminal prompts, no pager;
 * - hooks off (core.hooksPath=/dev/null), fsmonitor off, no external diff or textconv;
 * - for the user's own repositories, whose .git/config the workspace controls, every filter and
 *   diff driver the config defines is overridden with an empty command, and a config with include
 *   directives is not read at all (repositoryOverrides).
 * Checkpoints use the agent's own git directory, whose config only the agent writes.
 */

export const GIT_TIMEOUT_MS = 30_000;

export class GitError extends Error {
  override name = 'GitError';
  constructor(
    message: string,
    readonly exitCode: number | null,
  ) {
    super(message);
  }
}

export interface GitRunOptions {
  cwd: string;
  /** Extra environment (GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE). */
  env?: Record<string, string>;
  /** `-c key=value` pairs placed before the subcommand. */
  config?: Array<[string, string]>;
  input?: string | Buffer;
  /** Stop reading stdout past this many bytes (the result is then `truncated`). */
  maxOutputBytes?: number;
  /** Exit codes that are not failures (git diff --no-index exits 1 on a difference). */
  okExitCodes?: number[];
}

export interface GitResult {
  stdout: Buffer;
  truncated: boolean;
}

const BASE_CONFIG: Array<[string, string]> = [
  ['core.hooksPath', '/dev/null'],
  ['core.fsmonitor', 'false'],
  ['core.pager', 'cat'],
  ['core.quotePath', 'false'],
  ['diff.external', ''],
  ['color.ui', 'false'],
  ['advice.detachedHead', 'false'],
  ['safe.directory', '*'],
];

/** The environment every git call gets: nothing of the agent's own environment. */
function gitEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: FALLBACK_PATH,
    HOME: '/nonexistent',
    LANG: 'C',
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '/bin/false',
    GIT_PAGER: 'cat',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_NO_REPLACE_OBJECTS: '1',
    ...extra,
  };
}

export function runGit(args: string[], options: GitRunOptions): Promise<GitResult> {
  const config = [...BASE_CONFIG, ...(options.config ?? [])].flatMap(([key, value]) => [
    '-c',
    `${key}=${value}`,
  ]);
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['--no-pager', ...config, ...args], {
      cwd: options.cwd,
      env: gitEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: GIT_TIMEOUT_MS,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (truncated) return;
      const max = options.maxOutputBytes;
      if (max !== undefined && size + chunk.length > max) {
        chunks.push(chunk.subarray(0, max - size));
        size = max;
        truncated = true;
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString('utf8');
    });
    child.on('error', (error) => reject(new GitError(`git could not run: ${error.message}`, null)));
    child.on('close', (code) => {
      const ok = code === 0 || (code !== null && (options.okExitCodes ?? []).includes(code));
      if (ok || (truncated && code !== null)) {
        resolve({ stdout: Buffer.concat(chunks), truncated });
      } else {
        reject(new GitError(`git ${args[0]} failed: ${stderr.trim() || `exit ${code}`}`, code));
      }
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

export async function gitText(args: string[], options: GitRunOptions): Promise<string> {
  return (await runGit(args, options)).stdout.toString('utf8');
}

/** NUL-separated output into its entries (the last, empty one dropped). */
export function splitNul(output: Buffer | string): string[] {
  const text = typeof output === 'string' ? output : output.toString('utf8');
  return text.split('\0').filter((entry) => entry.length > 0);
}

const COMMAND_KEYS =
  /^(filter\.[^.]+(\.[^.]+)*\.(clean|smudge|process)|diff\.[^.]+(\.[^.]+)*\.(textconv|command)|merge\.[^.]+(\.[^.]+)*\.driver)$/i;
const INCLUDE_KEYS = /^(include\.|includeif\.)/i;

/**
 * `-c` overrides that disarm a repository's own config (see the module comment), or null when
 * the config has include directives (refused: they could pull in config from anywhere). Reading
 * it with `git config --file` runs nothing and follows no include.
 */
export async function repositoryOverrides(gitDir: string): Promise<Array<[string, string]> | null> {
  let keys: string[];
  try {
    const listed = await gitText(['config', '--file', `${gitDir}/config`, '--null', '--list'], {
      cwd: gitDir,
    });
    keys = splitNul(listed).map((entry) => entry.split('\n')[0]!);
  } catch {
    return []; // no config file: nothing to disarm
  }
  if (keys.some((key) => INCLUDE_KEYS.test(key))) return null;
  const overrides: Array<[string, string]> = [];
  for (const key of keys) {
    if (COMMAND_KEYS.test(key)) overrides.push([key, '']);
    if (/^filter\..*\.(clean|smudge|process)$/i.test(key)) {
      overrides.push([key.replace(/\.(clean|smudge|process)$/i, '.required'), 'false']);
    }
  }
  return overrides;
}
