-- MCP servers (issue #12): admin-managed Model Context Protocol servers whose tools chats may use,
-- and each chat's choices among them. Keep in step with prisma/schema.prisma.

CREATE TYPE "McpTransport" AS ENUM ('STREAMABLE_HTTP', 'SSE');
CREATE TYPE "McpAuthType" AS ENUM ('NONE', 'API_KEY', 'HEADERS');
CREATE TYPE "McpAvailability" AS ENUM ('FORCE_ON', 'DEFAULT_ON', 'DEFAULT_OFF');

CREATE TABLE "mcp_servers" (
  "id" UUID NOT NULL DEFAULT gen_random_uuid(),
  "name" TEXT NOT NULL,
  "display_name" TEXT NOT NULL,
  "url" TEXT NOT NULL,
  "transport" "McpTransport" NOT NULL DEFAULT 'STREAMABLE_HTTP',
  "auth_type" "McpAuthType" NOT NULL DEFAULT 'NONE',
  "api_key_header" TEXT,
  "api_key_encrypted" TEXT,
  "custom_headers_encrypted" TEXT,
  "tool_allow_list" JSONB NOT NULL DEFAULT '[]',
  "tool_deny_list" JSONB NOT NULL DEFAULT '[]',
  "availability" "McpAvailability" NOT NULL DEFAULT 'DEFAULT_ON',
  "enabled" BOOLEAN NOT NULL DEFAULT false,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "mcp_servers_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "mcp_servers_name_key" ON "mcp_servers"("name");

-- A chat's explicit choice about one server (mcpServerIds); without a row the server's
-- availability decides. Subagents use their root chat's rows.
CREATE TABLE "chat_mcp_servers" (
  "chat_id" UUID NOT NULL,
  "mcp_server_id" UUID NOT NULL,
  "selected" BOOLEAN NOT NULL,
  CONSTRAINT "chat_mcp_servers_pkey" PRIMARY KEY ("chat_id", "mcp_server_id"),
  CONSTRAINT "chat_mcp_servers_chat_id_fkey" FOREIGN KEY ("chat_id") REFERENCES "chats"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT "chat_mcp_servers_mcp_server_id_fkey" FOREIGN KEY ("mcp_server_id") REFERENCES "mcp_servers"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "chat_mcp_servers_mcp_server_id_idx" ON "chat_mcp_servers"("mcp_server_id");
