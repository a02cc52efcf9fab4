-- Per-model-config generation options (issue #10): output cap, Anthropic thinking budget,
-- reasoning effort and temperature. Null keeps the provider's default, so existing configs
-- behave as before.
CREATE TYPE "ReasoningEffort" AS ENUM ('LOW', 'MEDIUM', 'HIGH');

ALTER TABLE "model_configs"
  ADD COLUMN "max_output_tokens" INTEGER,
  ADD COLUMN "thinking_budget_tokens" INTEGER,
  ADD COLUMN "reasoning_effort" "ReasoningEffort",
  ADD COLUMN "temperature" DOUBLE PRECISION;

-- Attachments (issue #10): whether a model reads images, the uploaded files (bytea, deduplicated
-- per owner by SHA-256) and the chats that use them.
ALTER TABLE "model_configs" ADD COLUMN "supports_images" BOOLEAN NOT NULL DEFAULT false;

CREATE TABLE "chat_files" (
  "id" UUID NOT NULL,
  "owner_id" UUID NOT NULL,
  "name" TEXT NOT NULL,
  "media_type" TEXT NOT NULL,
  "size" INTEGER NOT NULL,
  "sha256" TEXT NOT NULL,
  "data" BYTEA NOT NULL,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "chat_files_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "chat_files_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "chat_files_owner_id_sha256_key" ON "chat_files"("owner_id", "sha256");

CREATE TABLE "chat_file_links" (
  "chat_id" UUID NOT NULL,
  "file_id" UUID NOT NULL,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "chat_file_links_pkey" PRIMARY KEY ("chat_id", "file_id"),
  CONSTRAINT "chat_file_links_chat_id_fkey" FOREIGN KEY ("chat_id") REFERENCES "chats"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT "chat_file_links_file_id_fkey" FOREIGN KEY ("file_id") REFERENCES "chat_files"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "chat_file_links_file_id_idx" ON "chat_file_links"("file_id");
