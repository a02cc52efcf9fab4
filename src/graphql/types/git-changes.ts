import { loadChatForRead, loadChatForWrite } from '../../chats/access.js';
import type { ChatCheckpoint } from '../../generated/prisma/client.js';
import type { GitFileChange, GitRepositoryChanges } from '../../workspace/agent/git-protocol.js';
import type { GitChangesSnapshot } from '../../workspace/git-changes-service.js';
import { builder } from '../builder.js';
import { chatMutationField } from './chat-mutation.js';
import { ChatType } from './chats.js';

/** The files-changed view and checkpoints / undo (issue #11). */

const GitFileStatusEnum = builder.enumType('GitFileStatus', {
  values: ['ADDED', 'MODIFIED', 'DELETED', 'RENAMED', 'UNTRACKED', 'CONFLICTED'] as const,
});

const GitFileChangeType = builder.objectRef<GitFileChange>('GitFileChange').implement({
  fields: (t) => ({
    path: t.exposeString('path', { description: "Relative to the repository's top level." }),
    status: t.expose('status', { type: GitFileStatusEnum }),
    additions: t.exposeInt('additions'),
    deletions: t.exposeInt('deletions'),
  }),
});

const GitRepositoryChangesType = builder
  .objectRef<GitRepositoryChanges>('GitRepositoryChanges')
  .implement({
    fields: (t) => ({
      path: t.exposeString('path', {
        description: "The repository's top level, relative to the workspace root ('.': the root).",
      }),
      branch: t.exposeString('branch', { nullable: true, description: 'null: detached HEAD.' }),
      origin: t.exposeString('origin', {
        nullable: true,
        description: "The origin remote's URL, without credentials.",
      }),
      headCommit: t.exposeString('headCommit', { nullable: true }),
      files: t.field({ type: [GitFileChangeType], resolve: (repo) => repo.files }),
      diff: t.exposeString('diff', {
        description: 'Unified diff against HEAD (untracked files as additions), at most 1 MiB.',
      }),
      truncated: t.exposeBoolean('truncated', { description: 'The diff was cut at 1 MiB.' }),
      error: t.string({
        nullable: true,
        description: 'Why the repository could not be scanned.',
        resolve: (repo) => repo.error ?? null,
      }),
    }),
  });

const GitChangesType = builder.objectRef<GitChangesSnapshot>('GitChanges').implement({
  description:
    "The git repositories of the chat's workspace: the root (when it is one) and those the " +
    "chat's tools (its subagents' included) touched.",
  fields: (t) => ({
    rootChatId: t.exposeID('rootChatId'),
    scannedAt: t.field({ type: 'DateTime', resolve: (snapshot) => snapshot.scannedAt }),
    repositories: t.field({
      type: [GitRepositoryChangesType],
      resolve: (snapshot) => snapshot.repositories,
    }),
  }),
});

const ChatCheckpointType = builder.objectRef<ChatCheckpoint>('ChatCheckpoint').implement({
  description:
    'The workspace files as they were before a USER message ran (rewindChat restores them).',
  fields: (t) => ({
    id: t.id({ resolve: (checkpoint) => checkpoint.id.toString() }),
    messageId: t.id({ resolve: (checkpoint) => checkpoint.messageId.toString() }),
    workspaceId: t.exposeID('workspaceId'),
    skippedPaths: t.stringList({
      description: 'Left out: nested repositories ("dir/") and files over 10 MiB.',
      resolve: (checkpoint) =>
        Array.isArray(checkpoint.skipped)
          ? checkpoint.skipped.filter((entry): entry is string => typeof entry === 'string')
          : [],
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.objectFields(ChatType, (t) => ({
  gitChanges: t.field({
    type: GitChangesType,
    nullable: true,
    description: 'Scanned now (at most once a second per workspace); null without a workspace.',
    resolve: (chat, _args, ctx) => ctx.services.gitChanges.snapshot(chat.rootId ?? chat.id),
  }),
  checkpoints: t.field({
    type: [ChatCheckpointType],
    description: 'Newest first; the last 50 are kept.',
    resolve: (chat, _args, ctx) =>
      ctx.prisma.chatCheckpoint.findMany({ where: { chatId: chat.id }, orderBy: { id: 'desc' } }),
  }),
}));

builder.subscriptionFields((t) => ({
  chatGitChanges: t.field({
    type: GitChangesType,
    nullable: true,
    description:
      "Snapshots of the chat's git changes: one at once, then one whenever they change (checked " +
      'after tool calls that write or run, on refreshGitChanges, and every 30 s). null: no ' +
      'workspace.',
    args: { chatId: t.arg.id({ required: true }) },
    subscribe: async (_root, args, ctx) => {
      const chat = await loadChatForRead(ctx.prisma, ctx.viewer, args.chatId);
      const rootChatId = chat.rootId ?? chat.id;
      return ctx.services.gitChanges.watch(rootChatId);
    },
    resolve: (snapshot: GitChangesSnapshot | null) => snapshot,
  }),
}));

builder.mutationFields((t) => ({
  refreshGitChanges: t.field({
    type: GitChangesType,
    nullable: true,
    description: 'Rescans now; chatGitChanges subscribers get the result when it changed.',
    args: { chatId: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const chat = await loadChatForWrite(ctx.prisma, ctx.viewer, args.chatId);
      const rootChatId = chat.rootId ?? chat.id;
      await ctx.services.gitChanges.changed(rootChatId, 'refresh');
      return ctx.services.gitChanges.snapshot(rootChatId);
    },
  }),
}));

chatMutationField('rewindChat', {
  description:
    'Takes the chat back to before a USER message: that message and every later one are ' +
    'soft-deleted (usage stays), and with restoreFiles the workspace files are restored to ' +
    'the checkpoint taken before it. CONFLICT while a turn runs: interrupt first.',
  args: (arg) => ({
    messageId: arg.id({ required: true }),
    chatId: arg.id({ description: 'When given, the message must be one of this chat.' }),
    restoreFiles: arg.boolean({ defaultValue: true }),
  }),
  run: (args, ctx) => ctx.services.rewind.rewindChat(ctx.viewer, args),
});
