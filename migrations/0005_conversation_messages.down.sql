DROP TABLE raw.conversation_messages;
