-- Messages are fetched per conversation, and a sync fetches only the
-- conversations whose message count changed: their raw answers are kept per
-- conversation, so a window's partial fetch never drops what was kept before.
CREATE TABLE raw.conversation_messages (
    tenant_id       text NOT NULL,
    conversation_id text NOT NULL,
    fetched_at      timestamptz NOT NULL,
    message_count   integer NOT NULL,
    body            jsonb NOT NULL,
    PRIMARY KEY (tenant_id, conversation_id)
);
COMMENT ON TABLE raw.conversation_messages IS 'Latest GET /report/chat/messages answer per conversation, as received.';
COMMENT ON COLUMN raw.conversation_messages.tenant_id IS 'Tenant id.';
COMMENT ON COLUMN raw.conversation_messages.conversation_id IS 'Conversation id.';
COMMENT ON COLUMN raw.conversation_messages.fetched_at IS 'When the answer was received.';
COMMENT ON COLUMN raw.conversation_messages.message_count IS 'Messages in the answer.';
COMMENT ON COLUMN raw.conversation_messages.body IS 'The response body.';
