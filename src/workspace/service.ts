import { randomBytes, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

import { createChatEvents } from '../chats/events.js';
import type { Deps } from '../deps.js';
import type { Workspace } from '../generated/prisma/client.js';
import { resolveSandbox, type ResolvedSandbox } from './agent/sandbox.js';
import { WorkspaceAgentClient, type ProcessOutputResponse } from './agent-client.js';
import { settingsFor, startAgentProcess, type AgentProcess } from './agent-process.js';
import { sandboxSettingsOf } from './sandbox-settings.js';
import {
  copyTemplate,
  listTemplates,
  readTemplate,
  TemplateError,
  type TemplateDetails,
  type TemplateSummary,
} from './templates.js';
import { readDeploymentSettings, templateAllowed } from '../settings/deployment.js';

/**
 * Workspaces (B18): a directory under WORKSPACES_DIR made from a template, served by a workspace
 * agent the server talks to over HTTP. This is the domain service the tools call; it owns the
 * agents embedded in this process.
 *
 * Embedded agents live only as long as this process. A workspace row remembers the last agent's
 * URL and (encrypted) token, so after a restart, or on another replica, `clientFor` first tries
 * that agent (it may belong to a live sibling process on this host) and otherwise starts a new
 * one on the workspace directory. A row without a directory is a remote workspace (see
 * registerRemoteWorkspace): its agent runs elsewhere and is only ever called, never started.
 */

/** Random bytes of an embedded agent's bearer token. */
const AGENT_TOKEN_BYTES = 32;
/** How long to wait for a stored agent URL to answer before treating it as gone. */
const AGENT_PROBE_TIMEOUT_MS = 3_000;
/**
 * Longest single wait asked of the agent while a startup script runs; the wait is repeated until
 * the script's own timeout. Kept well under fetch's (undici's) 300 s headers timeout, which
 * would otherwise end a long wait as if the agent were unreachable.
 */
const STARTUP_POLL_MS = 60_000;
/** After a startup script's own timeout, how long the agent gets to kill it and report. */
const STARTUP_KILL_GRACE_MS = 5_000;
/** Workspace names: one short path-free word, as the GraphQL API shows them. */
const WORKSPACE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/;
/** Hex characters of the random suffix of a generated workspace name. */
const NAME_SUFFIX_BYTES = 2;
/** Tool activity is recorded at most this often per workspace (the TTL counts minutes). */
const TOUCH_INTERVAL_MS = 15_000;

export type WorkspaceErrorCode =
  'NO_WORKSPACE' | 'NOT_FOUND' | 'STOPPED' | 'BAD_INPUT' | 'UNAVAILABLE' | 'SANDBOX_UNAVAILABLE';

/** An expected failure; the message is written to be shown to the model as it is. */
export class WorkspaceError extends Error {
  override name = 'WorkspaceError';
  constructor(
    readonly code: WorkspaceErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const NO_WORKSPACE_MESSAGE =
  'No workspace is associated with this chat. Use the create_workspace tool to create one ' +
  '(list_templates shows the templates to choose from).';
export const STOPPED_MESSAGE =
  'The workspace is stopped. Use the start_workspace tool to start it.';
export const NO_SANDBOX_MESSAGE =
  'Commands cannot run in this workspace: this server has no working sandbox for workspace ' +
  'processes (bubblewrap), and without one only administrators may run commands. Files can ' +
  'still be read and edited with the file tools. An operator can install bubblewrap, or set ' +
  'WORKSPACE_SANDBOX=none to allow unsandboxed commands for everyone.';

export interface StartupScriptReport {
  /** none: the template has no startup script. */
  status: 'none' | 'succeeded' | 'failed' | 'timed_out';
  script: string | null;
  exitCode: number | null;
  output: string;
  truncated: boolean;
  wallDurationMs: number;
}

export type CreateWorkspaceResult =
  | { created: true; workspace: Workspace; startup: StartupScriptReport }
  /** The chat already has a workspace: running (and reachable) or stopped. */
  | { created: false; reason: 'already_exists' | 'stopped'; workspace: Workspace };

export type StartWorkspaceResult =
  | { started: true; workspace: Workspace; startup: StartupScriptReport }
  | { started: false; reason: 'already_running'; workspace: Workspace };

export interface CreateWorkspaceInput {
  ownerId: string;
  chatId: string;
  /** Template name, as listTemplates returns it. */
  template: string;
  /** Default: `<template>-<4 hex>`. */
  name?: string;
}

export interface CallOptions {
  /** Stops waiting (for the startup script, mostly); the workspace is then marked FAILED. */
  signal?: AbortSignal;
}

export interface WorkspaceManager {
  listTemplates(query?: string): Promise<TemplateSummary[]>;
  /** Throws TemplateError for a bad name or a missing or broken template. */
  readTemplate(name: string): Promise<TemplateDetails>;
  /**
   * Creates a workspace from a template for the chat and binds the chat to it, unless the chat
   * already has a usable one. Waits for the template's startup script (bounded); a failing
   * script marks the workspace FAILED but still binds it, and the report says what happened.
   * Calls for one chat run one at a time, so parallel tool calls cannot create two.
   */
  createWorkspace(
    input: CreateWorkspaceInput,
    options?: CallOptions,
  ): Promise<CreateWorkspaceResult>;
  /** Starts the chat's workspace again (agent and startup script) unless it is running. */
  startWorkspace(chatId: string, options?: CallOptions): Promise<StartWorkspaceResult>;
  /** Stops this process's agent of the workspace (its processes die) and marks it STOPPED. */
  stopWorkspace(workspaceId: string): Promise<void>;
  /**
   * After the row of a workspace is deleted: stops this process's agent of it (its processes
   * die) and removes its directory, when that lies under WORKSPACES_DIR.
   */
  discard(workspace: Workspace): Promise<void>;
  /** Workspaces whose agent this process started (the workspace TTL ends the stopped ones). */
  embeddedWorkspaceIds(): string[];
  /** The chat's workspace row, read now (a tool call earlier in the turn may have bound it). */
  workspaceForChat(chatId: string): Promise<Workspace | null>;
  /**
   * A client for the workspace's agent, starting an embedded agent when none answers. Throws
   * WorkspaceError (NOT_FOUND, STOPPED, UNAVAILABLE).
   */
  clientFor(workspaceId: string): Promise<WorkspaceAgentClient>;
  /** Forgets the agent cached for the workspace (it stopped answering); the next call re-resolves. */
  invalidate(workspaceId: string): void;
  /**
   * Throws WorkspaceError SANDBOX_UNAVAILABLE when commands (execute, the process tools, startup
   * scripts) must not run in this workspace for this owner: the server found no sandbox in auto
   * mode and the owner is not an ADMIN. Remote workspaces are their host's business.
   */
  assertCommandsAllowed(workspace: Workspace): Promise<void>;
  /** How this server's embedded agents run commands, decided once at start. */
  readonly sandbox: ResolvedSandbox;
  /** Stops every agent embedded in this process. Later calls fail. Idempotent. */
  close(): Promise<void>;
}

interface AgentEntry {
  client: WorkspaceAgentClient;
  /** Set for agents this process started (embedded); absent for ones it only calls. */
  agent?: AgentProcess;
}

export function createWorkspaceManager(deps: Deps): WorkspaceManager {
  const { prisma, secretBox, config, logger } = deps;
  const events = createChatEvents(deps);
  const sandboxSettings = sandboxSettingsOf(config);
  // Throws (and so stops the server from starting) when WORKSPACE_SANDBOX=bwrap cannot work.
  const sandbox = resolveSandbox(sandboxSettings);
  if (sandbox.kind === 'none' && !sandbox.explicit) {
    logger.error(
      'NO SANDBOX FOR WORKSPACE COMMANDS: bubblewrap does not work here, so commands would run ' +
        "with the server's privileges. They are refused in MEMBER chats (ADMIN chats still run " +
        'them, unsandboxed). Install bubblewrap, or set WORKSPACE_SANDBOX=none to accept this.',
      { reason: sandbox.reason },
    );
  } else if (sandbox.kind === 'none') {
    logger.warn('workspace commands run unsandboxed (WORKSPACE_SANDBOX=none)');
  } else {
    logger.info('workspace commands run in bubblewrap', { network: sandbox.policy.network });
  }
  const agentSettings = settingsFor(sandbox, sandboxSettings);
  const agents = new Map<string, AgentEntry>();
  /** In-flight resolutions, so concurrent first calls start one agent, not several. */
  const resolving = new Map<string, Promise<AgentEntry>>();
  const chatLocks = new Map<string, Promise<unknown>>();
  let closed = false;
  let closing: Promise<void> | undefined;

  /**
   * Runs `work` after every earlier call for the same chat has settled. A lock in this process is
   * enough: a chat's turn, and so its tool calls, runs on one worker at a time (B9).
   */
  function withChatLock<T>(chatId: string, work: () => Promise<T>): Promise<T> {
    const previous = chatLocks.get(chatId) ?? Promise.resolve();
    const run = previous.then(work, work);
    const settled = run.catch(() => undefined);
    chatLocks.set(chatId, settled);
    void settled.then(() => {
      if (chatLocks.get(chatId) === settled) chatLocks.delete(chatId);
    });
    return run;
  }

  function assertOpen() {
    if (closed) throw new WorkspaceError('UNAVAILABLE', 'The server is shutting down; try again');
  }

  async function startEmbedded(workspace: Workspace): Promise<AgentEntry> {
    assertOpen();
    if (!workspace.directory) throw new Error(`Workspace ${workspace.id} has no directory`);
    const token = randomBytes(AGENT_TOKEN_BYTES).toString('base64url');
    let agent: AgentProcess;
    try {
      agent = await startAgentProcess({
        root: workspace.directory,
        token,
        sandbox: agentSettings,
        logger: logger.child({ workspaceId: workspace.id }),
      });
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') {
        throw new WorkspaceError(
          'UNAVAILABLE',
          'The workspace directory does not exist on this server, so its agent cannot start. ' +
            'Use create_workspace to make a new workspace.',
        );
      }
      throw error;
    }
    if (closed) {
      await agent.close();
      assertOpen();
    }
    const entry: AgentEntry = {
      agent,
      client: new WorkspaceAgentClient({ url: agent.url, token }),
    };
    const previous = agents.get(workspace.id);
    agents.set(workspace.id, entry);
    await previous?.agent?.close();
    await prisma.workspace.update({
      where: { id: workspace.id },
      data: { agentUrl: agent.url, agentTokenEncrypted: secretBox.encrypt(token) },
    });
    logger.info('workspace agent started', {
      workspaceId: workspace.id,
      url: agent.url,
      pid: agent.pid,
    });
    return entry;
  }

  /** The stored agent's client, or null when the row has none or its token cannot be read. */
  function storedClient(workspace: Workspace): WorkspaceAgentClient | null {
    if (!workspace.agentUrl || !workspace.agentTokenEncrypted) return null;
    try {
      const token = secretBox.decrypt(workspace.agentTokenEncrypted);
      return new WorkspaceAgentClient({ url: workspace.agentUrl, token });
    } catch (error) {
      logger.warn('workspace agent token unreadable', { workspaceId: workspace.id, error });
      return null;
    }
  }

  async function resolveAgent(workspaceId: string): Promise<AgentEntry> {
    const workspace = await prisma.workspace.findUnique({ where: { id: workspaceId } });
    if (!workspace) {
      throw new WorkspaceError(
        'NOT_FOUND',
        'The workspace was deleted. Use create_workspace to make a new one.',
      );
    }
    if (workspace.status === 'STOPPED') throw new WorkspaceError('STOPPED', STOPPED_MESSAGE);
    const stored = storedClient(workspace);
    if (!workspace.directory) {
      if (!stored) {
        throw new WorkspaceError(
          'UNAVAILABLE',
          'The workspace has no usable agent registered; an operator must register it again.',
        );
      }
      return { client: stored };
    }
    // A sibling process on this host may still serve it; the token check rules out a stranger
    // that happens to listen on the old port.
    if (stored && (await answers(stored))) return { client: stored };
    return startEmbedded(workspace);
  }

  /**
   * Records tool activity for the workspace TTL (issue #13). Every tool call that uses the agent
   * comes through clientFor; one write per workspace per TOUCH_INTERVAL_MS is enough for a TTL
   * counted in minutes.
   */
  const touchedAt = new Map<string, number>();
  function touch(workspaceId: string) {
    const now = Date.now();
    if (now - (touchedAt.get(workspaceId) ?? 0) < TOUCH_INTERVAL_MS) return;
    touchedAt.set(workspaceId, now);
    prisma.workspace
      .updateMany({ where: { id: workspaceId }, data: { lastActivityAt: new Date(now) } })
      .catch((error: unknown) => logger.warn('workspace activity not recorded', { error }));
  }

  async function clientFor(workspaceId: string): Promise<WorkspaceAgentClient> {
    assertOpen();
    touch(workspaceId);
    const cached = agents.get(workspaceId);
    if (cached) return cached.client;
    let pending = resolving.get(workspaceId);
    if (!pending) {
      pending = resolveAgent(workspaceId).finally(() => resolving.delete(workspaceId));
      resolving.set(workspaceId, pending);
    }
    const entry = await pending;
    if (!closed && !agents.has(workspaceId)) agents.set(workspaceId, entry);
    return entry.client;
  }

  async function assertCommandsAllowed(workspace: Workspace): Promise<void> {
    if (sandbox.kind === 'bwrap' || sandbox.explicit || !workspace.directory) return;
    const owner = await prisma.user.findUnique({
      where: { id: workspace.ownerId },
      select: { role: true },
    });
    if (owner?.role !== 'ADMIN')
      throw new WorkspaceError('SANDBOX_UNAVAILABLE', NO_SANDBOX_MESSAGE);
  }

  async function runStartupScript(
    client: WorkspaceAgentClient,
    template: TemplateDetails | null,
    signal: AbortSignal | undefined,
    workspace: Workspace,
  ): Promise<StartupScriptReport> {
    const script = template?.startupScript ?? null;
    if (!template || script === null) {
      return {
        status: 'none',
        script: null,
        exitCode: null,
        output: '',
        truncated: false,
        wallDurationMs: 0,
      };
    }
    try {
      // The script is a file in the workspace, which the owner can rewrite: it is their code.
      await assertCommandsAllowed(workspace);
    } catch (error) {
      if (!(error instanceof WorkspaceError)) throw error;
      return {
        status: 'failed',
        script,
        exitCode: null,
        output: error.message,
        truncated: false,
        wallDurationMs: 0,
      };
    }
    const timeoutMs = template.startupTimeoutSeconds * 1000;
    const deadline = Date.now() + timeoutMs + STARTUP_KILL_GRACE_MS;
    const started = await client.startProcess(
      {
        command: `/bin/sh ${shellQuote(script)}`,
        timeoutMs: Math.min(timeoutMs, STARTUP_POLL_MS),
        // The agent kills the whole group when it overruns, so nothing it started lingers.
        killAfterMs: timeoutMs,
      },
      { signal },
    );
    if (!('output' in started)) throw new Error('Startup script started in the background');
    let result: ProcessOutputResponse = started;
    while (result.running && Date.now() < deadline) {
      const waitMs = Math.min(Math.max(deadline - Date.now(), 1), STARTUP_POLL_MS);
      result = await client.processOutput(result.id, { waitMs }, { signal });
    }
    if (result.running) await client.signalProcess(result.id, 'SIGKILL', { signal });
    const timedOut =
      result.running || (result.signal !== null && result.wallDurationMs >= timeoutMs);
    return {
      status: timedOut ? 'timed_out' : result.exitCode === 0 ? 'succeeded' : 'failed',
      script,
      exitCode: result.exitCode,
      output: result.output,
      truncated: result.truncated,
      wallDurationMs: result.wallDurationMs,
    };
  }

  /** The template of a workspace, or null when it has gone (its startup script is then skipped). */
  async function templateOf(workspace: Workspace): Promise<TemplateDetails | null> {
    try {
      return await readTemplate(config.TEMPLATES_DIR, workspace.template);
    } catch (error) {
      logger.warn('workspace template unreadable; skipping its startup script', {
        workspaceId: workspace.id,
        template: workspace.template,
        error,
      });
      return null;
    }
  }

  /** True when the chat's current workspace can be used as it is (create_workspace is a no-op). */
  async function usable(workspace: Workspace): Promise<boolean> {
    if (workspace.status !== 'RUNNING') return false;
    try {
      return await answers(await clientFor(workspace.id));
    } catch (error) {
      if (error instanceof WorkspaceError) return false;
      throw error;
    }
  }

  async function bindChat(chatId: string, workspaceId: string) {
    const chat = await prisma.chat.update({ where: { id: chatId }, data: { workspaceId } });
    await events.list(chat.ownerId, 'UPDATED', chat.id);
  }

  async function createWorkspace(
    input: CreateWorkspaceInput,
    options: CallOptions = {},
  ): Promise<CreateWorkspaceResult> {
    return withChatLock(input.chatId, async () => {
      assertOpen();
      const current = await workspaceForChat(input.chatId);
      if (current?.status === 'STOPPED') {
        return { created: false, reason: 'stopped', workspace: current };
      }
      if (current && (await usable(current))) {
        return { created: false, reason: 'already_exists', workspace: current };
      }
      // Otherwise (none, FAILED, a STARTING one whose creator died, or gone) make a new one.

      const template = await allowedTemplate(input.template);
      const name =
        input.name ?? `${template.name}-${randomBytes(NAME_SUFFIX_BYTES).toString('hex')}`;
      if (!WORKSPACE_NAME.test(name)) {
        throw new WorkspaceError(
          'BAD_INPUT',
          'name must be 1-64 characters of letters, digits, ".", "_" and "-", starting with a ' +
            'letter or digit',
        );
      }
      const id = randomUUID();
      const directory = path.resolve(config.WORKSPACES_DIR, id);
      let workspace = await prisma.workspace.create({
        data: { id, ownerId: input.ownerId, name, template: template.name, directory },
      });
      const log = logger.child({ workspaceId: id, chatId: input.chatId });
      try {
        await fs.mkdir(path.dirname(directory), { recursive: true });
        await copyTemplate(template, directory);
        const { client } = await startEmbedded(workspace);
        const startup = await runStartupScript(client, template, options.signal, workspace);
        if (startup.status !== 'succeeded' && startup.status !== 'none') {
          log.warn('workspace startup script did not succeed', {
            status: startup.status,
            exitCode: startup.exitCode,
          });
        }
        workspace = await prisma.workspace.update({
          where: { id },
          data: { status: isStartupOk(startup) ? 'RUNNING' : 'FAILED' },
        });
        await bindChat(input.chatId, id);
        log.info('workspace created', { template: template.name, status: workspace.status });
        return { created: true, workspace, startup };
      } catch (error) {
        // Nothing half-made stays behind: no agent, no files, and the row says FAILED.
        const entry = agents.get(id);
        agents.delete(id);
        await entry?.agent?.close();
        await fs.rm(directory, { recursive: true, force: true });
        await prisma.workspace
          .update({ where: { id }, data: { status: 'FAILED' } })
          .catch((updateError: unknown) =>
            log.warn('marking workspace FAILED failed', { updateError }),
          );
        if (error instanceof WorkspaceError || options.signal?.aborted) throw error;
        log.error('workspace creation failed', { error });
        throw new WorkspaceError(
          'UNAVAILABLE',
          `Workspace creation failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    });
  }

  async function startWorkspace(
    chatId: string,
    options: CallOptions = {},
  ): Promise<StartWorkspaceResult> {
    return withChatLock(chatId, async () => {
      assertOpen();
      const chat = await prisma.chat.findUnique({
        where: { id: chatId },
        select: { workspaceId: true, workspace: true },
      });
      if (!chat?.workspaceId) {
        throw new WorkspaceError(
          'NO_WORKSPACE',
          'This chat has no workspace. Use create_workspace first.',
        );
      }
      let workspace = chat.workspace;
      if (!workspace) {
        throw new WorkspaceError(
          'NOT_FOUND',
          'The workspace was deleted. Use create_workspace to make a new one.',
        );
      }
      if (workspace.status === 'RUNNING') {
        await clientFor(workspace.id); // restarts an embedded agent this process lost
        return { started: false, reason: 'already_running', workspace };
      }

      workspace = await prisma.workspace.update({
        where: { id: workspace.id },
        // Starting counts as activity, or the workspace TTL would stop it again at once.
        data: { status: 'STARTING', lastActivityAt: new Date() },
      });
      try {
        let client: WorkspaceAgentClient;
        let startup: StartupScriptReport;
        if (workspace.directory) {
          client = (await startEmbedded(workspace)).client;
          startup = await runStartupScript(
            client,
            await templateOf(workspace),
            options.signal,
            workspace,
          );
        } else {
          // A remote agent is started on its own host; all we can do is check it answers.
          client = (await resolveAgent(workspace.id)).client;
          if (!(await answers(client))) {
            throw new WorkspaceError(
              'UNAVAILABLE',
              `The workspace's remote agent at ${workspace.agentUrl} does not answer; it must be ` +
                'started on its host.',
            );
          }
          agents.set(workspace.id, { client });
          startup = await runStartupScript(client, null, options.signal, workspace);
        }
        workspace = await prisma.workspace.update({
          where: { id: workspace.id },
          data: { status: isStartupOk(startup) ? 'RUNNING' : 'FAILED' },
        });
        return { started: true, workspace, startup };
      } catch (error) {
        await prisma.workspace
          .update({ where: { id: workspace.id }, data: { status: 'FAILED' } })
          .catch(() => undefined);
        throw error;
      }
    });
  }

  async function stopWorkspace(workspaceId: string): Promise<void> {
    const entry = agents.get(workspaceId);
    agents.delete(workspaceId);
    touchedAt.delete(workspaceId);
    await entry?.agent?.close();
    await prisma.workspace.update({ where: { id: workspaceId }, data: { status: 'STOPPED' } });
  }

  async function discard(workspace: Workspace): Promise<void> {
    const entry = agents.get(workspace.id);
    agents.delete(workspace.id);
    touchedAt.delete(workspace.id);
    await entry?.agent?.close();
    if (!workspace.directory) return; // remote: its host owns the files
    const root = path.resolve(config.WORKSPACES_DIR);
    const directory = path.resolve(workspace.directory);
    // A row's directory is always made under WORKSPACES_DIR; refuse anything else outright.
    if (path.dirname(directory) !== root) {
      logger.warn('not removing a workspace directory outside WORKSPACES_DIR', { directory });
      return;
    }
    await fs.rm(directory, { recursive: true, force: true });
  }

  async function workspaceForChat(chatId: string): Promise<Workspace | null> {
    const chat = await prisma.chat.findUnique({
      where: { id: chatId },
      select: { workspace: true },
    });
    return chat?.workspace ?? null;
  }

  /** A template the deployment's allowlist lets the agent use (issue #13), else TemplateError. */
  async function allowedTemplate(name: string): Promise<TemplateDetails> {
    const settings = await readDeploymentSettings(prisma);
    if (!templateAllowed(settings, name)) {
      throw new TemplateError(
        'NOT_ALLOWED',
        `Template "${name}" is not allowed on this deployment. Use list_templates to see the ` +
          'templates you may use.',
      );
    }
    return readTemplate(config.TEMPLATES_DIR, name);
  }

  return {
    async listTemplates(query) {
      const [templates, settings] = await Promise.all([
        listTemplates(config.TEMPLATES_DIR, {
          query,
          onInvalid: (name, error) => logger.warn('invalid workspace template', { name, error }),
        }),
        readDeploymentSettings(prisma),
      ]);
      return templates.filter((template) => templateAllowed(settings, template.name));
    },
    readTemplate: allowedTemplate,
    embeddedWorkspaceIds: () => [...agents].flatMap(([id, entry]) => (entry.agent ? [id] : [])),
    createWorkspace,
    startWorkspace,
    stopWorkspace,
    discard,
    workspaceForChat,
    clientFor,
    assertCommandsAllowed,
    sandbox,
    invalidate(workspaceId) {
      // One of our own agents that stops answering is shutting down, unless its process died.
      const agent = agents.get(workspaceId)?.agent;
      if (!agent?.isRunning()) agents.delete(workspaceId);
    },
    close: () =>
      (closing ??= (async () => {
        closed = true;
        const running = [...agents.values()].flatMap((entry) => (entry.agent ? [entry.agent] : []));
        agents.clear();
        await Promise.allSettled(running.map((agent) => agent.close()));
      })()),
  };
}

/**
 * Registers a workspace whose agent runs on another host (`agentgraph-agent --root DIR --port N`
 * with AGENTGRAPH_AGENT_TOKEN set there). The row has no directory, so the server never starts an
 * agent for it; it only calls `agentUrl`. A chat uses it when created with its id as
 * `createChat(input: { workspaceId })`. The agent must answer with this token now.
 */
export async function registerRemoteWorkspace(
  deps: Pick<Deps, 'prisma' | 'secretBox'>,
  input: { ownerId: string; name: string; agentUrl: string; token: string; template?: string },
): Promise<Workspace> {
  if (!WORKSPACE_NAME.test(input.name)) {
    throw new WorkspaceError('BAD_INPUT', `Invalid workspace name: ${input.name}`);
  }
  const url = new URL(input.agentUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WorkspaceError('BAD_INPUT', 'agentUrl must be an http:// or https:// URL');
  }
  const client = new WorkspaceAgentClient({ url: input.agentUrl, token: input.token });
  await client.listProcesses({ signal: AbortSignal.timeout(AGENT_PROBE_TIMEOUT_MS) });
  return deps.prisma.workspace.create({
    data: {
      ownerId: input.ownerId,
      name: input.name,
      template: input.template ?? 'remote',
      status: 'RUNNING',
      agentUrl: input.agentUrl,
      agentTokenEncrypted: deps.secretBox.encrypt(input.token),
      directory: null,
    },
  });
}

function isStartupOk(startup: StartupScriptReport) {
  return startup.status === 'succeeded' || startup.status === 'none';
}

/** True when the agent answers an authenticated call in time. */
async function answers(client: WorkspaceAgentClient): Promise<boolean> {
  try {
    await client.listProcesses({ signal: AbortSignal.timeout(AGENT_PROBE_TIMEOUT_MS) });
    return true;
  } catch {
    return false;
  }
}

/** Quotes a word for /bin/sh (the script path is validated too; this is belt and braces). */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

function errnoCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}
