-- Issue #11. PLAN mode as the seeds run it: a question pending until answered and the last
-- proposed plan live on the chat, so both survive restarts.
ALTER TABLE "chats" ADD COLUMN "pending_question" JSONB;
ALTER TABLE "chats" ADD COLUMN "plan" JSONB;

-- Checkpoints: the workspace's files before each USER message's turn, as a commit in the
-- workspace agent's own git directory (never the user's repository). rewindChat restores them.
CREATE TABLE "chat_checkpoints" (
  "id" BIGSERIAL NOT NULL,
  "chat_id" UUID NOT NULL,
  "message_id" BIGINT NOT NULL,
  "workspace_id" UUID NOT NULL,
  "commit" TEXT NOT NULL,
  "skipped" JSONB NOT NULL DEFAULT '[]',
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "chat_checkpoints_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "chat_checkpoints_chat_id_fkey" FOREIGN KEY ("chat_id") REFERENCES "chats"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "chat_checkpoints_chat_id_message_id_key" ON "chat_checkpoints"("chat_id", "message_id");
