-- Webhook deliveries were kept in raw.payload keyed by the instant they were
-- received, so two deliveries of the same microsecond shared one row. Each
-- delivery now has its own row, keyed by the digest of its body: a delivery
-- Engage sends again is kept (and applied) once.
CREATE TABLE raw.webhook (
    tenant_id   text NOT NULL,
    delivery_id text NOT NULL,
    received_at timestamptz NOT NULL,
    body        jsonb NOT NULL,
    PRIMARY KEY (tenant_id, delivery_id)
);
CREATE INDEX webhook_received ON raw.webhook (tenant_id, received_at);
COMMENT ON TABLE raw.webhook IS 'Webhook deliveries from Engage, one row per distinct body, as received.';
COMMENT ON COLUMN raw.webhook.tenant_id IS 'Tenant id.';
COMMENT ON COLUMN raw.webhook.delivery_id IS 'sha256 of the body, hex: a redelivery has the same id.';
COMMENT ON COLUMN raw.webhook.received_at IS 'When the delivery was first received.';
COMMENT ON COLUMN raw.webhook.body IS 'The request body.';

INSERT INTO raw.webhook (tenant_id, delivery_id, received_at, body)
SELECT tenant_id, encode(sha256(convert_to(body::text, 'UTF8')), 'hex'), fetched_at, body
FROM raw.payload WHERE stream = 'webhooks'
ON CONFLICT DO NOTHING;
DELETE FROM raw.payload WHERE stream = 'webhooks';
