-- Deleting a chat hides it instead of removing its rows: its messages keep counting in usage,
-- insights and usage limits (B27, B28), so deleting chats cannot reset a user's spend.
ALTER TABLE "chats" ADD COLUMN "deleted_at" TIMESTAMPTZ(3);
