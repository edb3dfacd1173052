-- One API budget per tenant for every process that loads it: a token
-- bucket each request reserves from (load.Store.Budget), so several daemons
-- together send at most the tenant's requests_per_second.
CREATE TABLE etl.api_budget (
    tenant_id  text PRIMARY KEY,
    tokens     double precision NOT NULL,
    updated_at timestamptz      NOT NULL
);
COMMENT ON TABLE etl.api_budget IS 'Per tenant: the API request budget every engage-etl process shares (a token bucket; negative tokens are requests reserved ahead).';
COMMENT ON COLUMN etl.api_budget.tenant_id IS 'Tenant id.';
COMMENT ON COLUMN etl.api_budget.tokens IS 'Requests that may be sent now; below 0, how many are reserved ahead of the pace.';
COMMENT ON COLUMN etl.api_budget.updated_at IS 'When tokens was last computed, by the database''s clock.';
