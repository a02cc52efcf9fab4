-- agentgraph initial schema. Keep in step with prisma/schema.prisma
-- (test/integration/db/schema-sync.test.ts compares the two).

CREATE TYPE "UserRole" AS ENUM ('ADMIN', 'MEMBER');
CREATE TYPE "ProviderKind" AS ENUM ('OPENAI', 'OPENAI_COMPATIBLE', 'ANTHROPIC');
CREATE TYPE "ChatStatus" AS ENUM ('PENDING', 'RUNNING', 'WAITING', 'PAUSED', 'ERROR');
CREATE TYPE "ChatMode" AS ENUM ('DEFAULT', 'PLAN');
CREATE TYPE "MessageRole" AS ENUM ('SYSTEM', 'USER', 'ASSISTANT', 'TOOL');
CREATE TYPE "WorkspaceStatus" AS ENUM ('STARTING', 'RUNNING', 'STOPPED', 'FAILED');

CREATE TABLE "users" (
  "id" UUID NOT NULL DEFAULT gen_random_uuid(),
  "username" TEXT NOT NULL,
  "role" "UserRole" NOT NULL,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "users_username_key" ON "users"("username");

CREATE TABLE "api_tokens" (
  "id" UUID NOT NULL DEFAULT gen_random_uuid(),
  "user_id" UUID NOT NULL,
  "name" TEXT NOT NULL,
  "token_hash" TEXT NOT NULL,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "last_used_at" TIMESTAMPTZ(3),
  CONSTRAINT "api_tokens_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "api_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "api_tokens_token_hash_key" ON "api_tokens"("token_hash");
CREATE INDEX "api_tokens_user_id_idx" ON "api_tokens"("user_id");

CREATE TABLE "providers" (
  "id" UUID NOT NULL DEFAULT gen_random_uuid(),
  "kind" "ProviderKind" NOT NULL,
  "display_name" TEXT NOT NULL,
  "base_url" TEXT,
  "api_key_encrypted" TEXT,
  "enabled" BOOLEAN NOT NULL DEFAULT true,
  "deleted_at" TIMESTAMPTZ(3),
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "providers_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "model_configs" (
  "id" UUID NOT NULL DEFAULT gen_random_uuid(),
  "provider_id" UUID NOT NULL,
  "model" TEXT NOT NULL,
  "display_name" TEXT NOT NULL,
  "enabled" BOOLEAN NOT NULL DEFAULT true,
  "is_default" BOOLEAN NOT NULL DEFAULT false,
  "context_limit" INTEGER NOT NULL,
  "compression_threshold" INTEGER NOT NULL DEFAULT 70,
  "input_price_micros" DOUBLE PRECISION,
  "output_price_micros" DOUBLE PRECISION,
  "cache_read_price_micros" DOUBLE PRECISION,
  "cache_write_price_micros" DOUBLE PRECISION,
  "deleted_at" TIMESTAMPTZ(3),
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "model_configs_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "model_configs_provider_id_fkey" FOREIGN KEY ("provider_id") REFERENCES "providers"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE INDEX "model_configs_provider_id_idx" ON "model_configs"("provider_id");
-- At most one default model config at a time.
CREATE UNIQUE INDEX "model_configs_single_default" ON "model_configs"("is_default") WHERE "is_default" AND "deleted_at" IS NULL;

CREATE TABLE "workspaces" (
  "id" UUID NOT NULL DEFAULT gen_random_uuid(),
  "owner_id" UUID NOT NULL,
  "name" TEXT NOT NULL,
  "template" TEXT NOT NULL,
  "status" "WorkspaceStatus" NOT NULL DEFAULT 'STARTING',
  "agent_url" TEXT,
  "agent_token_encrypted" TEXT,
  "directory" TEXT,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "workspaces_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "workspaces_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "workspaces_owner_id_idx" ON "workspaces"("owner_id");

CREATE TABLE "chats" (
  "id" UUID NOT NULL DEFAULT gen_random_uuid(),
  "owner_id" UUID NOT NULL,
  "title" TEXT NOT NULL,
  "status" "ChatStatus" NOT NULL DEFAULT 'PENDING',
  "last_error" TEXT,
  "mode" "ChatMode" NOT NULL DEFAULT 'DEFAULT',
  "model_config_id" UUID,
  "labels" JSONB NOT NULL DEFAULT '{}',
  "archived" BOOLEAN NOT NULL DEFAULT false,
  "pin_order" INTEGER,
  "parent_id" UUID,
  "root_id" UUID,
  "workspace_id" UUID,
  "worker_id" TEXT,
  "lease_epoch" INTEGER NOT NULL DEFAULT 0,
  "interrupt_request" TEXT,
  "started_at" TIMESTAMPTZ(3),
  "heartbeat_at" TIMESTAMPTZ(3),
  "last_read_message_id" BIGINT,
  "last_activity_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "chats_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "chats_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT "chats_model_config_id_fkey" FOREIGN KEY ("model_config_id") REFERENCES "model_configs"("id") ON DELETE SET NULL ON UPDATE CASCADE,
  CONSTRAINT "chats_parent_id_fkey" FOREIGN KEY ("parent_id") REFERENCES "chats"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT "chats_root_id_fkey" FOREIGN KEY ("root_id") REFERENCES "chats"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT "chats_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE SET NULL ON UPDATE CASCADE
);
CREATE INDEX "chats_status_created_at_idx" ON "chats"("status", "created_at");
CREATE INDEX "chats_owner_id_archived_last_activity_at_idx" ON "chats"("owner_id", "archived", "last_activity_at" DESC);
CREATE INDEX "chats_parent_id_idx" ON "chats"("parent_id");
CREATE INDEX "chats_root_id_idx" ON "chats"("root_id");
-- The daemon's acquire query scans only PENDING chats, oldest first.
CREATE INDEX "chats_pending_acquire_idx" ON "chats"("created_at") WHERE "status" = 'PENDING';
-- Stale recovery scans only RUNNING chats by heartbeat.
CREATE INDEX "chats_running_heartbeat_idx" ON "chats"("heartbeat_at") WHERE "status" = 'RUNNING';
-- chats(filter: {labels}) uses `labels @> '{"k":"v"}'`.
CREATE INDEX "chats_labels_gin_idx" ON "chats" USING GIN ("labels" jsonb_path_ops);

CREATE TABLE "chat_messages" (
  "id" BIGSERIAL NOT NULL,
  "chat_id" UUID NOT NULL,
  "role" "MessageRole" NOT NULL,
  "parts" JSONB NOT NULL,
  "content_version" SMALLINT NOT NULL DEFAULT 1,
  "created_by_id" UUID,
  "model_config_id" UUID,
  "input_tokens" INTEGER NOT NULL DEFAULT 0,
  "output_tokens" INTEGER NOT NULL DEFAULT 0,
  "reasoning_tokens" INTEGER NOT NULL DEFAULT 0,
  "cache_read_tokens" INTEGER NOT NULL DEFAULT 0,
  "cache_write_tokens" INTEGER NOT NULL DEFAULT 0,
  "cost_micros" DOUBLE PRECISION NOT NULL DEFAULT 0,
  "is_summary" BOOLEAN NOT NULL DEFAULT false,
  "deleted" BOOLEAN NOT NULL DEFAULT false,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "chat_messages_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "chat_messages_chat_id_fkey" FOREIGN KEY ("chat_id") REFERENCES "chats"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT "chat_messages_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE,
  CONSTRAINT "chat_messages_model_config_id_fkey" FOREIGN KEY ("model_config_id") REFERENCES "model_configs"("id") ON DELETE SET NULL ON UPDATE CASCADE
);
CREATE INDEX "chat_messages_chat_id_id_idx" ON "chat_messages"("chat_id", "id");
CREATE INDEX "chat_messages_created_at_idx" ON "chat_messages"("created_at");

CREATE TABLE "queued_messages" (
  "id" BIGSERIAL NOT NULL,
  "chat_id" UUID NOT NULL,
  "text" TEXT NOT NULL,
  "created_by_id" UUID,
  "position" DOUBLE PRECISION NOT NULL,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "queued_messages_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "queued_messages_chat_id_fkey" FOREIGN KEY ("chat_id") REFERENCES "chats"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "queued_messages_chat_id_position_idx" ON "queued_messages"("chat_id", "position");

CREATE TABLE "usage_limits" (
  "id" UUID NOT NULL DEFAULT gen_random_uuid(),
  "user_id" UUID,
  "limit_micros" DOUBLE PRECISION NOT NULL,
  "period_days" INTEGER NOT NULL,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "usage_limits_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "usage_limits_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "usage_limits_user_id_key" ON "usage_limits"("user_id");
-- One default limit (user_id NULL) at most.
CREATE UNIQUE INDEX "usage_limits_single_default" ON "usage_limits"((true)) WHERE "user_id" IS NULL;

CREATE TABLE "site_configs" (
  "key" TEXT NOT NULL,
  "value" TEXT NOT NULL,
  CONSTRAINT "site_configs_pkey" PRIMARY KEY ("key")
);
