INSERT INTO raw.payload (tenant_id, stream, window_start, window_end, fetched_at, body)
SELECT tenant_id, 'webhooks', received_at, received_at, received_at, body FROM raw.webhook
ON CONFLICT DO NOTHING;
DROP TABLE raw.webhook;
