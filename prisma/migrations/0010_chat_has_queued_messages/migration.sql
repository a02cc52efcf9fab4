-- Issue #9: the daemon ends a turn in one statement (endTurnWaiting in src/db/chat-leases.ts):
-- it locks the chat row in a CTE, then asks whether messages are queued. A subquery would read
-- the queue as of the statement's start, before the lock was granted, and miss a message queued
-- by the transaction that held the lock. A VOLATILE function runs its query with a fresh snapshot
-- (READ COMMITTED), so called with the locked row it sees every message queued before the lock.
CREATE FUNCTION chat_has_queued_messages(chat uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM queued_messages WHERE chat_id = chat);
END
$$;
