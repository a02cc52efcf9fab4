-- Issue #13: deployment and per-user settings, workspace idle stop, retention, fair-share acquire.

-- Fair-share acquire ranks each user's PENDING chats by age; this partial index keeps that scan
-- to the pending rows. Prisma cannot express a partial index; prisma/schema.prisma notes it.
CREATE INDEX "chats_pending_owner_idx" ON "chats" ("owner_id", "created_at")
  WHERE "status" = 'PENDING' AND "archived" = false;

-- Retention: when a deleted chat's message bodies were purged (null: not yet). Usage columns of
-- its messages stay, so insights and usage limits do not change.
ALTER TABLE "chats" ADD COLUMN "purged_at" TIMESTAMPTZ(3);

-- Workspace TTL: the last tool call that used the workspace; an idle one is stopped.
ALTER TABLE "workspaces" ADD COLUMN "last_activity_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now();

-- Per-user settings: personal instructions and compaction thresholds per model config.
CREATE TABLE "user_settings" (
  "user_id" UUID NOT NULL,
  "instructions" TEXT NOT NULL DEFAULT '',
  -- {modelConfigId: percent}; a user's override wins over the model config's threshold.
  "compaction_thresholds" JSONB NOT NULL DEFAULT '{}',
  "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  CONSTRAINT "user_settings_pkey" PRIMARY KEY ("user_id"),
  CONSTRAINT "user_settings_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id")
    ON DELETE CASCADE ON UPDATE CASCADE
);

-- Explore subagents (spawn_explore_agent): read-only children offered only read_file, execute
-- and process_output.
ALTER TABLE "chats" ADD COLUMN "explore" BOOLEAN NOT NULL DEFAULT false;
