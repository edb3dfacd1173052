-- Cross-endpoint reconciliation: each detail stream is checked, per tenant
-- and local day, against the bucketed report that counts the same thing
-- (kinds.Def.Reconciles). A row is the latest check of a day.
CREATE TABLE etl.reconciliation (
    tenant_id     text        NOT NULL,
    pair          text        NOT NULL,
    day           date        NOT NULL,
    detail_stream text        NOT NULL,
    report_stream text        NOT NULL,
    detail_value  numeric     NOT NULL,
    report_value  numeric     NOT NULL,
    groups        integer     NOT NULL,
    groups_off    integer     NOT NULL,
    worst_group   text,
    status        text        NOT NULL CHECK (status IN ('ok', 'pending', 'mismatch')),
    checked_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, pair, day)
);
COMMENT ON TABLE etl.reconciliation IS 'Per tenant, pair and local day: a detail stream''s figure against the bucketed report that counts the same thing, at the latest check.';
COMMENT ON COLUMN etl.reconciliation.tenant_id IS 'Tenant id.';
COMMENT ON COLUMN etl.reconciliation.pair IS 'The pair checked, e.g. conversations, conversations_by_channel (kinds.Def.Reconciles).';
COMMENT ON COLUMN etl.reconciliation.day IS 'Tenant-local day.';
COMMENT ON COLUMN etl.reconciliation.detail_stream IS 'The detail stream whose rows were counted.';
COMMENT ON COLUMN etl.reconciliation.report_stream IS 'The bucketed report stream that counts the same thing.';
COMMENT ON COLUMN etl.reconciliation.detail_value IS 'The day''s figure from the detail rows (all groups).';
COMMENT ON COLUMN etl.reconciliation.report_value IS 'The day''s figure from the report (all groups).';
COMMENT ON COLUMN etl.reconciliation.groups IS 'Groups (agents, channels, teams; 1 when ungrouped) either side has on the day.';
COMMENT ON COLUMN etl.reconciliation.groups_off IS 'Groups whose two figures differ by more than the pair''s tolerance.';
COMMENT ON COLUMN etl.reconciliation.worst_group IS 'The group that differs most, when any differs.';
COMMENT ON COLUMN etl.reconciliation.status IS 'ok; pending (differs, but the day is still within the detail stream''s lookback and is read again); mismatch (differs after the lookback: the stream''s run failed).';
COMMENT ON COLUMN etl.reconciliation.checked_at IS 'When the day was last checked.';

CREATE VIEW bi.reconciliation AS
SELECT tenant_id, pair, day, detail_stream, report_stream, detail_value, report_value,
       detail_value - report_value AS difference, groups, groups_off, worst_group, status, checked_at
FROM etl.reconciliation;
COMMENT ON VIEW bi.reconciliation IS 'One row per tenant, reconciled pair and local day: a detail stream''s figure against the bucketed report that counts the same thing. A chart of difference by day shows where the warehouse misses rows the API counts.';
COMMENT ON COLUMN bi.reconciliation.tenant_id IS 'Tenant id.';
COMMENT ON COLUMN bi.reconciliation.pair IS 'The pair checked, e.g. conversations (vs chat CONVERSATIONS), conversations_by_agent (conversation agents vs chat CONVERSATIONS by AGENT).';
COMMENT ON COLUMN bi.reconciliation.day IS 'Tenant-local day.';
COMMENT ON COLUMN bi.reconciliation.detail_stream IS 'The detail stream whose rows were counted.';
COMMENT ON COLUMN bi.reconciliation.report_stream IS 'The bucketed report stream that counts the same thing.';
COMMENT ON COLUMN bi.reconciliation.detail_value IS 'The day''s figure from the detail rows.';
COMMENT ON COLUMN bi.reconciliation.report_value IS 'The day''s figure from the report.';
COMMENT ON COLUMN bi.reconciliation.difference IS 'detail_value - report_value: negative when the warehouse holds fewer rows than the report counts.';
COMMENT ON COLUMN bi.reconciliation.groups IS 'Groups (agents, channels, teams; 1 when ungrouped) either side has on the day.';
COMMENT ON COLUMN bi.reconciliation.groups_off IS 'Groups whose two figures differ by more than the pair''s tolerance.';
COMMENT ON COLUMN bi.reconciliation.worst_group IS 'The group that differs most, when any differs.';
COMMENT ON COLUMN bi.reconciliation.status IS 'ok, pending (differs within the lookback, read again), or mismatch (differs after the lookback: the run failed).';
COMMENT ON COLUMN bi.reconciliation.checked_at IS 'When the day was last checked.';
