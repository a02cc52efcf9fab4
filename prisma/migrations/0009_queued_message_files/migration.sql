-- A message queued behind a running turn keeps its files (issue #10): their FileParts wait with
-- its text and become the inserted message's parts when it runs.
ALTER TABLE "queued_messages" ADD COLUMN "files" JSONB NOT NULL DEFAULT '[]';
