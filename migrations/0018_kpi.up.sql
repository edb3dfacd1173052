-- The contact-center answers (issue 21): the tenant's opening hours and SLA
-- rules as dimensions, business time, and KPI views in bi.

-- ------------------------------------------------------------ dimensions
CREATE TABLE engage.dim_opening_hours (
    opening_hours_key  bigserial PRIMARY KEY,
    tenant_key         integer NOT NULL REFERENCES engage.dim_tenant,
    opening_hours_id   text NOT NULL,
    name               text,
    timezone_offset    numeric,
    slots              jsonb NOT NULL DEFAULT '[]',
    holidays           date[] NOT NULL DEFAULT '{}',
    holiday_names      text[] NOT NULL DEFAULT '{}',
    listed             boolean NOT NULL DEFAULT true,
    loaded_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_key, opening_hours_id)
);
COMMENT ON TABLE engage.dim_opening_hours IS 'Opening hours of a tenant (GET /openinghours): the weekly hours and the holidays a business-time figure counts within; opening_hours_key 0 is the Unknown member (always open).';
COMMENT ON COLUMN engage.dim_opening_hours.opening_hours_key IS 'Surrogate key.';
COMMENT ON COLUMN engage.dim_opening_hours.tenant_key IS 'Tenant (dim_tenant).';
COMMENT ON COLUMN engage.dim_opening_hours.opening_hours_id IS 'The opening hours'' id in Engage.';
COMMENT ON COLUMN engage.dim_opening_hours.name IS 'Name.';
COMMENT ON COLUMN engage.dim_opening_hours.timezone_offset IS 'The API''s timezoneOffset (hours), as sent. Business time is counted in the tenant''s zone (dim_tenant.timezone), which follows daylight saving time; a fixed offset cannot.';
COMMENT ON COLUMN engage.dim_opening_hours.slots IS 'Weekly hours: [{"isodow":1..7 (Monday 1), "opens":"HH:MM", "closes":"HH:MM"}], local times of the tenant''s zone; closes "24:00" is midnight.';
COMMENT ON COLUMN engage.dim_opening_hours.holidays IS 'Local days that are closed all day.';
COMMENT ON COLUMN engage.dim_opening_hours.holiday_names IS 'The holidays'' names, in the order of holidays.';
COMMENT ON COLUMN engage.dim_opening_hours.listed IS 'Whether the latest list held it (an SLA rule naming opening hours no longer listed counts around the clock).';
COMMENT ON COLUMN engage.dim_opening_hours.loaded_at IS 'When this row was last written.';
INSERT INTO engage.dim_opening_hours (opening_hours_key, tenant_key, opening_hours_id, name, slots)
SELECT 0, 0, '(unknown)', 'Unknown (always open)',
       jsonb_agg(jsonb_build_object('isodow', d, 'opens', '00:00', 'closes', '24:00') ORDER BY d)
FROM generate_series(1, 7) d;

CREATE TABLE engage.dim_sla_rule (
    sla_rule_key           bigserial PRIMARY KEY,
    tenant_key             integer NOT NULL REFERENCES engage.dim_tenant,
    sla_rule_id            text NOT NULL,
    position               integer NOT NULL,
    name                   text,
    active                 boolean NOT NULL,
    team_ids               text[] NOT NULL DEFAULT '{}',
    channels               text[] NOT NULL DEFAULT '{}',
    opening_hours_id       text,
    first_response_seconds integer,
    response_seconds       integer,
    watchdog_enabled       boolean NOT NULL DEFAULT false,
    listed                 boolean NOT NULL DEFAULT true,
    loaded_at              timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_key, sla_rule_id)
);
COMMENT ON TABLE engage.dim_sla_rule IS 'SLA rules of a tenant (GET /slarule): which conversations a rule covers (teams, channels), its response-time targets and the opening hours they count in. A conversation falls under the first active rule, in the API''s order (position), whose conditions it meets.';
COMMENT ON COLUMN engage.dim_sla_rule.sla_rule_key IS 'Surrogate key.';
COMMENT ON COLUMN engage.dim_sla_rule.tenant_key IS 'Tenant (dim_tenant).';
COMMENT ON COLUMN engage.dim_sla_rule.sla_rule_id IS 'The rule''s id in Engage.';
COMMENT ON COLUMN engage.dim_sla_rule.position IS 'Place in the API''s list (0 first): the first matching rule applies.';
COMMENT ON COLUMN engage.dim_sla_rule.name IS 'Name.';
COMMENT ON COLUMN engage.dim_sla_rule.active IS 'Whether the rule is active (an inactive rule covers nothing).';
COMMENT ON COLUMN engage.dim_sla_rule.team_ids IS 'Teams the rule covers (its TEAM conditions); empty: any team.';
COMMENT ON COLUMN engage.dim_sla_rule.channels IS 'Channels the rule covers (its CHANNEL conditions); empty: any channel.';
COMMENT ON COLUMN engage.dim_sla_rule.opening_hours_id IS 'Opening hours its targets count in (its OPENING_HOURS condition); NULL: around the clock.';
COMMENT ON COLUMN engage.dim_sla_rule.first_response_seconds IS 'Target: seconds of business time to the first agent message.';
COMMENT ON COLUMN engage.dim_sla_rule.response_seconds IS 'Target: seconds of business time from a customer''s message to the answer.';
COMMENT ON COLUMN engage.dim_sla_rule.watchdog_enabled IS 'Whether Engage alerts its receivers on a missed target.';
COMMENT ON COLUMN engage.dim_sla_rule.listed IS 'Whether the latest list held it; a rule no longer listed covers nothing.';
COMMENT ON COLUMN engage.dim_sla_rule.loaded_at IS 'When this row was last written.';

-- ------------------------------------------------------------ business time
-- The seconds of [t0, t1) within weekly opening hours (slots, local times of
-- zone) outside the holidays. Each local day between is taken with its own
-- UTC offset, so a day when the clocks change has its real length: opening
-- hours 08:00-18:00 are ten hours on either side of a change, and a range
-- over the night of the change counts what the clock on the wall shows.
-- The days are local timestamps (generate_series of timestamp, not of
-- date, which PostgreSQL would take as timestamptz in the session's zone),
-- so "day + 08:00 AT TIME ZONE zone" is 08:00 on the zone's clock. NULL
-- when a bound is (an unanswered conversation waits no business time yet).
CREATE FUNCTION engage.business_seconds(slots jsonb, holidays date[], zone text, t0 timestamptz, t1 timestamptz)
RETURNS numeric LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
    SELECT COALESCE(sum(GREATEST(0, EXTRACT(epoch FROM
               LEAST(t1, (d.day + (s ->> 'closes')::interval) AT TIME ZONE zone)
             - GREATEST(t0, (d.day + (s ->> 'opens')::interval) AT TIME ZONE zone)))), 0)
    FROM generate_series((t0 AT TIME ZONE zone)::date::timestamp, (t1 AT TIME ZONE zone)::date::timestamp, interval '1 day') AS d(day)
    CROSS JOIN LATERAL jsonb_array_elements(slots) AS s
    WHERE t1 > t0
      AND (s ->> 'isodow')::int = EXTRACT(isodow FROM d.day)
      AND d.day::date <> ALL (holidays)
$$;
COMMENT ON FUNCTION engage.business_seconds(jsonb, date[], text, timestamptz, timestamptz) IS 'Seconds of [t0, t1) within the weekly opening hours (dim_opening_hours.slots) in the zone, holidays excluded; daylight saving time included.';


-- Each conversation's business first response, kept by the load: a
-- dashboard's question over 90 days would otherwise count business time
-- for 45,000 conversations (0.7 s a time, and more for its buckets). The
-- conversations' commits refresh their rows, the opening hours' and SLA
-- rules' commits every row of the tenant when one of them changed
-- (load.ConversationBatch, OpeningHoursBatch, SLARuleBatch).
CREATE VIEW engage.conversation_business_now AS
SELECT c.tenant_key, c.conversation_id, r.sla_rule_key, COALESCE(oh.opening_hours_key, 0) AS opening_hours_key,
       engage.business_seconds(COALESCE(oh.slots, always.slots), COALESCE(oh.holidays, always.holidays), t.timezone, c.started_at,
           c.started_at + c.first_response_ms * interval '1 millisecond') AS first_response_business_seconds
FROM engage.fact_conversation c
JOIN engage.dim_tenant t ON t.tenant_key = c.tenant_key
JOIN engage.dim_team tm ON tm.team_key = c.team_key
CROSS JOIN (SELECT slots, holidays FROM engage.dim_opening_hours WHERE opening_hours_key = 0) always
-- The first active rule, in the API's order, whose teams and channels it matches.
LEFT JOIN LATERAL (
    SELECT r.sla_rule_key, r.opening_hours_id FROM engage.dim_sla_rule r
    WHERE r.tenant_key = c.tenant_key AND r.active AND r.listed
      AND (cardinality(r.team_ids) = 0 OR tm.team_id = ANY (r.team_ids))
      AND (cardinality(r.channels) = 0 OR c.channel = ANY (r.channels))
    ORDER BY r.position LIMIT 1
) r ON true
LEFT JOIN engage.dim_opening_hours oh ON oh.tenant_key = c.tenant_key AND oh.opening_hours_id = r.opening_hours_id AND oh.listed;
COMMENT ON VIEW engage.conversation_business_now IS 'What engage.conversation_business holds, computed now: the SLA rule each conversation falls under (the first active one, by position, whose teams and channels it matches), the opening hours its business time counts in (0, always open, without), and its business first response.';
COMMENT ON COLUMN engage.conversation_business_now.tenant_key IS 'Tenant (dim_tenant).';
COMMENT ON COLUMN engage.conversation_business_now.conversation_id IS 'Conversation (fact_conversation).';
COMMENT ON COLUMN engage.conversation_business_now.sla_rule_key IS 'SLA rule (dim_sla_rule); NULL: none.';
COMMENT ON COLUMN engage.conversation_business_now.opening_hours_key IS 'Opening hours (dim_opening_hours; 0: always open).';
COMMENT ON COLUMN engage.conversation_business_now.first_response_business_seconds IS 'Business seconds to the first agent message; NULL while unanswered.';

CREATE TABLE engage.conversation_business (
    tenant_key                      integer NOT NULL REFERENCES engage.dim_tenant,
    conversation_id                 text NOT NULL,
    sla_rule_key                    bigint,
    opening_hours_key               bigint NOT NULL,
    first_response_business_seconds numeric,
    loaded_at                       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_key, conversation_id)
);
COMMENT ON TABLE engage.conversation_business IS 'Grain: one conversation: its SLA rule, opening hours and business first response, refreshed by the load (engage.conversation_business_now).';
COMMENT ON COLUMN engage.conversation_business.tenant_key IS 'Tenant (dim_tenant).';
COMMENT ON COLUMN engage.conversation_business.conversation_id IS 'Conversation (fact_conversation).';
COMMENT ON COLUMN engage.conversation_business.sla_rule_key IS 'SLA rule (dim_sla_rule); NULL: none.';
COMMENT ON COLUMN engage.conversation_business.opening_hours_key IS 'Opening hours (dim_opening_hours; 0: always open).';
COMMENT ON COLUMN engage.conversation_business.first_response_business_seconds IS 'Business seconds to the first agent message; NULL while unanswered.';
COMMENT ON COLUMN engage.conversation_business.loaded_at IS 'When this row was last written.';
-- A warehouse loaded before this migration: its conversations, under no
-- rule yet (the first list of rules refreshes them).
INSERT INTO engage.conversation_business (tenant_key, conversation_id, sla_rule_key, opening_hours_key, first_response_business_seconds)
SELECT tenant_key, conversation_id, sla_rule_key, opening_hours_key, first_response_business_seconds FROM engage.conversation_business_now;

-- ------------------------------------------------------------ KPI views
CREATE VIEW bi.sla_rules AS
SELECT t.tenant_id, r.sla_rule_id, r.position, r.name, r.active, r.team_ids, r.channels,
       oh.name AS opening_hours, r.first_response_seconds, r.response_seconds
FROM engage.dim_sla_rule r
JOIN engage.dim_tenant t ON t.tenant_key = r.tenant_key
LEFT JOIN engage.dim_opening_hours oh ON oh.tenant_key = r.tenant_key AND oh.opening_hours_id = r.opening_hours_id AND oh.listed
WHERE r.listed;
COMMENT ON VIEW bi.sla_rules IS 'SLA rules: what each covers, its targets and the opening hours they count in. A conversation falls under the first active rule (by position) that matches.';
COMMENT ON COLUMN bi.sla_rules.tenant_id IS 'Tenant id.';
COMMENT ON COLUMN bi.sla_rules.sla_rule_id IS 'The rule''s id in Engage.';
COMMENT ON COLUMN bi.sla_rules.position IS 'Place in the API''s list (0 first).';
COMMENT ON COLUMN bi.sla_rules.name IS 'Rule name.';
COMMENT ON COLUMN bi.sla_rules.active IS 'Whether the rule is active.';
COMMENT ON COLUMN bi.sla_rules.team_ids IS 'Teams covered; empty: any.';
COMMENT ON COLUMN bi.sla_rules.channels IS 'Channels covered; empty: any.';
COMMENT ON COLUMN bi.sla_rules.opening_hours IS 'Opening hours the targets count in; NULL: around the clock.';
COMMENT ON COLUMN bi.sla_rules.first_response_seconds IS 'Target seconds (business time) to the first agent message.';
COMMENT ON COLUMN bi.sla_rules.response_seconds IS 'Target seconds (business time) from a customer message to its answer.';

CREATE VIEW bi.opening_hours AS
SELECT t.tenant_id, oh.opening_hours_id, oh.name, (s ->> 'isodow')::int AS isodow,
       (s ->> 'opens')::interval AS opens, (s ->> 'closes')::interval AS closes, oh.holidays
FROM engage.dim_opening_hours oh
JOIN engage.dim_tenant t ON t.tenant_key = oh.tenant_key
CROSS JOIN LATERAL jsonb_array_elements(oh.slots) s
WHERE oh.opening_hours_key <> 0 AND oh.listed;
COMMENT ON VIEW bi.opening_hours IS 'Opening hours, one row per weekly slot (local times of the tenant''s zone), with the holidays of the opening hours.';
COMMENT ON COLUMN bi.opening_hours.tenant_id IS 'Tenant id.';
COMMENT ON COLUMN bi.opening_hours.opening_hours_id IS 'The opening hours'' id in Engage.';
COMMENT ON COLUMN bi.opening_hours.name IS 'Name.';
COMMENT ON COLUMN bi.opening_hours.isodow IS 'Weekday, Monday 1 to Sunday 7.';
COMMENT ON COLUMN bi.opening_hours.opens IS 'Local time it opens.';
COMMENT ON COLUMN bi.opening_hours.closes IS 'Local time it closes (24:00: midnight).';
COMMENT ON COLUMN bi.opening_hours.holidays IS 'Local days closed all day.';

CREATE VIEW bi.conversation_response_times AS
SELECT t.tenant_id, c.conversation_id, d.full_date AS day, c.channel, tm.team_id, tm.name AS team_name,
       CASE WHEN a.agent_key <> 0 THEN a.email END AS agent_email,
       c.status, c.started_at, c.started_at + c.first_response_ms * interval '1 millisecond' AS first_response_at,
       round(c.first_response_ms / 1000.0, 3) AS first_response_seconds,
       round(c.avg_response_ms / 1000.0, 3) AS avg_response_seconds,
       b.first_response_business_seconds,
       (SELECT avg(engage.business_seconds(oh.slots, oh.holidays, t.timezone, g.waiting, g.answered))
        FROM (
            -- Each agent message answers the customer's messages since
            -- the last agent message: from the first of them to it.
            SELECT min(m.sent_at) FILTER (WHERE m.from_customer) AS waiting,
                   min(m.sent_at) FILTER (WHERE NOT m.from_customer) AS answered
            FROM (
                SELECT sent_at, from_customer, message_id,
                       count(*) FILTER (WHERE NOT from_customer) OVER (ORDER BY sent_at, message_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS answers_before
                FROM engage.fact_message
                WHERE tenant_key = c.tenant_key AND conversation_id = c.conversation_id
            ) m
            GROUP BY m.answers_before
        ) g
        WHERE g.waiting IS NOT NULL AND g.answered IS NOT NULL) AS avg_response_business_seconds,
       r.name AS sla_rule, oh.name AS opening_hours, r.first_response_seconds AS first_response_target_seconds,
       b.first_response_business_seconds <= r.first_response_seconds AS first_response_within_target
FROM engage.fact_conversation c
JOIN engage.dim_tenant t ON t.tenant_key = c.tenant_key
JOIN engage.dim_date d ON d.date_key = c.date_key
JOIN engage.dim_team tm ON tm.team_key = c.team_key
JOIN engage.dim_agent a ON a.agent_key = c.agent_key
LEFT JOIN engage.conversation_business b ON b.tenant_key = c.tenant_key AND b.conversation_id = c.conversation_id
LEFT JOIN engage.dim_opening_hours oh ON oh.opening_hours_key = COALESCE(b.opening_hours_key, 0)
LEFT JOIN engage.dim_sla_rule r ON r.sla_rule_key = b.sla_rule_key;
COMMENT ON VIEW bi.conversation_response_times IS 'Per conversation: first and mean response in calendar time (the API''s figures) and in business time (within the opening hours of its SLA rule, holidays excluded, in the tenant''s zone, daylight saving time included), its SLA rule and whether the first response met the target.';
COMMENT ON COLUMN bi.conversation_response_times.tenant_id IS 'Tenant id.';
COMMENT ON COLUMN bi.conversation_response_times.conversation_id IS 'Conversation id.';
COMMENT ON COLUMN bi.conversation_response_times.day IS 'Tenant-local day the conversation started.';
COMMENT ON COLUMN bi.conversation_response_times.channel IS 'Channel.';
COMMENT ON COLUMN bi.conversation_response_times.team_id IS 'Team id (bi.conversations.team_id).';
COMMENT ON COLUMN bi.conversation_response_times.team_name IS 'Team name.';
COMMENT ON COLUMN bi.conversation_response_times.agent_email IS 'The agent who answered first; NULL when nobody has.';
COMMENT ON COLUMN bi.conversation_response_times.status IS 'Status at the last sync.';
COMMENT ON COLUMN bi.conversation_response_times.started_at IS 'When the conversation started.';
COMMENT ON COLUMN bi.conversation_response_times.first_response_at IS 'When the first agent message came; NULL while unanswered.';
COMMENT ON COLUMN bi.conversation_response_times.first_response_seconds IS 'Calendar seconds to the first agent message.';
COMMENT ON COLUMN bi.conversation_response_times.avg_response_seconds IS 'The API''s mean calendar seconds from a customer''s message to its answer.';
COMMENT ON COLUMN bi.conversation_response_times.first_response_business_seconds IS 'Business seconds to the first agent message: the part of that wait within the opening hours, outside holidays.';
COMMENT ON COLUMN bi.conversation_response_times.avg_response_business_seconds IS 'Mean business seconds from the first of the customer''s unanswered messages to the agent''s answer, over the answers among the loaded messages; NULL without them.';
COMMENT ON COLUMN bi.conversation_response_times.sla_rule IS 'The SLA rule the conversation falls under; NULL: none.';
COMMENT ON COLUMN bi.conversation_response_times.opening_hours IS 'Opening hours its business time counts in.';
COMMENT ON COLUMN bi.conversation_response_times.first_response_target_seconds IS 'The rule''s first-response target (business seconds).';
COMMENT ON COLUMN bi.conversation_response_times.first_response_within_target IS 'Whether the first response met the target; NULL while unanswered or without a target.';

CREATE VIEW bi.response_time_buckets AS
WITH b (bucket_order, bucket, lower_seconds, upper_seconds) AS (VALUES
    (1, '0-30 s', 0, 30), (2, '30-60 s', 30, 60), (3, '1-2 min', 60, 120), (4, '2-5 min', 120, 300),
    (5, '5-15 min', 300, 900), (6, '15-60 min', 900, 3600), (7, '1-4 h', 3600, 14400),
    (8, '4-24 h', 14400, 86400), (9, 'over 24 h', 86400, NULL))
SELECT t.tenant_id, d.full_date AS day, c.channel, tm.team_id, x.basis, b.bucket_order, b.bucket, b.lower_seconds, b.upper_seconds,
       count(*) AS conversations
FROM engage.fact_conversation c
JOIN engage.dim_tenant t ON t.tenant_key = c.tenant_key
JOIN engage.dim_date d ON d.date_key = c.date_key
JOIN engage.dim_team tm ON tm.team_key = c.team_key
LEFT JOIN engage.conversation_business cb ON cb.tenant_key = c.tenant_key AND cb.conversation_id = c.conversation_id
CROSS JOIN LATERAL (VALUES ('calendar', c.first_response_ms / 1000.0), ('business', cb.first_response_business_seconds)) x (basis, seconds)
JOIN b ON x.seconds >= b.lower_seconds AND (b.upper_seconds IS NULL OR x.seconds < b.upper_seconds)
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
COMMENT ON VIEW bi.response_time_buckets IS 'Distribution of first-response times: answered conversations per tenant, local day, channel, team, basis (calendar or business time) and bucket. Chart conversations by bucket, ordered by bucket_order.';
COMMENT ON COLUMN bi.response_time_buckets.tenant_id IS 'Tenant id.';
COMMENT ON COLUMN bi.response_time_buckets.day IS 'Tenant-local day the conversations started.';
COMMENT ON COLUMN bi.response_time_buckets.channel IS 'Channel.';
COMMENT ON COLUMN bi.response_time_buckets.team_id IS 'Team id.';
COMMENT ON COLUMN bi.response_time_buckets.basis IS 'calendar: seconds on the clock; business: seconds within the opening hours.';
COMMENT ON COLUMN bi.response_time_buckets.bucket_order IS 'Order of the bucket, shortest first.';
COMMENT ON COLUMN bi.response_time_buckets.bucket IS 'Label of the bucket.';
COMMENT ON COLUMN bi.response_time_buckets.lower_seconds IS 'The bucket holds first responses of at least these seconds.';
COMMENT ON COLUMN bi.response_time_buckets.upper_seconds IS '... and under these; NULL: no bound.';
COMMENT ON COLUMN bi.response_time_buckets.conversations IS 'Answered conversations in the bucket.';

CREATE VIEW bi.service_level AS
SELECT t.tenant_id, d.full_date AS day, tm.team_id, tm.name AS team_name, c.channel,
       CASE WHEN a.agent_key <> 0 THEN a.email END AS agent_email, r.name AS sla_rule,
       r.first_response_seconds AS first_response_target_seconds,
       count(*) AS conversations,
       count(c.first_response_ms) AS answered,
       count(*) FILTER (WHERE cb.first_response_business_seconds <= r.first_response_seconds) AS within_target,
       round(count(*) FILTER (WHERE cb.first_response_business_seconds <= r.first_response_seconds)::numeric
             / NULLIF(count(c.first_response_ms), 0), 4) AS service_level
FROM engage.fact_conversation c
JOIN engage.dim_tenant t ON t.tenant_key = c.tenant_key
JOIN engage.dim_date d ON d.date_key = c.date_key
JOIN engage.dim_team tm ON tm.team_key = c.team_key
JOIN engage.dim_agent a ON a.agent_key = c.agent_key
JOIN engage.conversation_business cb ON cb.tenant_key = c.tenant_key AND cb.conversation_id = c.conversation_id
JOIN engage.dim_sla_rule r ON r.sla_rule_key = cb.sla_rule_key
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
COMMENT ON VIEW bi.service_level IS 'SLA compliance per tenant, local day, team, channel, first agent and SLA rule: answered conversations whose first response met the rule''s target in business time. Add up within_target and answered before dividing when grouping coarser.';
COMMENT ON COLUMN bi.service_level.tenant_id IS 'Tenant id.';
COMMENT ON COLUMN bi.service_level.day IS 'Tenant-local day the conversations started.';
COMMENT ON COLUMN bi.service_level.team_id IS 'Team id.';
COMMENT ON COLUMN bi.service_level.team_name IS 'Team name.';
COMMENT ON COLUMN bi.service_level.channel IS 'Channel.';
COMMENT ON COLUMN bi.service_level.agent_email IS 'The agent who answered first; NULL for unanswered conversations.';
COMMENT ON COLUMN bi.service_level.sla_rule IS 'SLA rule.';
COMMENT ON COLUMN bi.service_level.first_response_target_seconds IS 'The rule''s first-response target (business seconds).';
COMMENT ON COLUMN bi.service_level.conversations IS 'Conversations under the rule.';
COMMENT ON COLUMN bi.service_level.answered IS 'Of those, answered.';
COMMENT ON COLUMN bi.service_level.within_target IS 'Of those, answered within the target.';
COMMENT ON COLUMN bi.service_level.service_level IS 'within_target / answered; NULL when none was answered.';

CREATE VIEW bi.volume_by_local_hour AS
SELECT t.tenant_id, d.full_date AS day, EXTRACT(isodow FROM c.started_at AT TIME ZONE t.timezone)::int AS isodow,
       trim(to_char(c.started_at AT TIME ZONE t.timezone, 'Day')) AS weekday,
       EXTRACT(hour FROM c.started_at AT TIME ZONE t.timezone)::int AS hour, c.channel, count(*) AS conversations
FROM engage.fact_conversation c
JOIN engage.dim_tenant t ON t.tenant_key = c.tenant_key
JOIN engage.dim_date d ON d.date_key = c.date_key
GROUP BY 1, 2, 3, 4, 5, 6;
COMMENT ON VIEW bi.volume_by_local_hour IS 'Conversations started per tenant, local day, local hour and channel: a heatmap''s grain (sum by isodow and hour over the days you want). Hours are the wall clock of the tenant''s zone: a spring-forward day has no 02 hour, an autumn one counts two hours as 02.';
COMMENT ON COLUMN bi.volume_by_local_hour.tenant_id IS 'Tenant id.';
COMMENT ON COLUMN bi.volume_by_local_hour.day IS 'Tenant-local day.';
COMMENT ON COLUMN bi.volume_by_local_hour.isodow IS 'Weekday, Monday 1 to Sunday 7.';
COMMENT ON COLUMN bi.volume_by_local_hour.weekday IS 'Weekday name.';
COMMENT ON COLUMN bi.volume_by_local_hour.hour IS 'Local hour, 0-23.';
COMMENT ON COLUMN bi.volume_by_local_hour.channel IS 'Channel.';
COMMENT ON COLUMN bi.volume_by_local_hour.conversations IS 'Conversations started in that hour.';

-- Open at the end of a day = started through that day - closed through
-- it: running sums of two counts per local day, so a dashboard's question
-- reads each conversation once, not once for every day it stayed open.
CREATE VIEW bi.backlog AS
WITH c AS (
    SELECT f.tenant_key, f.date_key AS start_key,
           CASE WHEN f.ended_at IS NOT NULL THEN to_char(f.ended_at AT TIME ZONE t.timezone, 'YYYYMMDD')::int END AS end_key
    FROM engage.fact_conversation f JOIN engage.dim_tenant t ON t.tenant_key = f.tenant_key
), moves AS (
    SELECT tenant_key, start_key AS date_key, count(*) AS started, 0 AS ended,
           count(*) FILTER (WHERE end_key IS NULL OR end_key > start_key) AS carried
    FROM c GROUP BY 1, 2
    UNION ALL
    SELECT tenant_key, end_key, 0, count(*), 0 FROM c WHERE end_key IS NOT NULL GROUP BY 1, 2
), days AS (
    SELECT tenant_key, date_key, sum(started) AS started, sum(ended) AS ended, sum(carried) AS carried
    FROM moves GROUP BY 1, 2
)
SELECT t.tenant_id, d.full_date AS day,
       sum(COALESCE(x.started, 0) - COALESCE(x.ended, 0)) OVER w AS open_conversations,
       sum(COALESCE(x.started, 0) - COALESCE(x.ended, 0)) OVER w - COALESCE(x.carried, 0) AS open_since_before
FROM engage.dim_tenant t
JOIN LATERAL (SELECT min(date_key) AS first FROM engage.fact_conversation f WHERE f.tenant_key = t.tenant_key) r ON r.first IS NOT NULL
JOIN engage.dim_date d ON d.date_key >= r.first AND d.full_date < (now() AT TIME ZONE t.timezone)::date
LEFT JOIN days x ON x.tenant_key = t.tenant_key AND x.date_key = d.date_key
WHERE t.tenant_key <> 0
WINDOW w AS (PARTITION BY t.tenant_key ORDER BY d.date_key);
COMMENT ON VIEW bi.backlog IS 'Conversations open (not DONE) at the end of each tenant-local day that has ended, from the tenant''s first day with conversations (0 included): started before midnight and not closed by then, as their end stood at the last sync (a conversation closed and reopened counts open from its start to its last close).';
COMMENT ON COLUMN bi.backlog.tenant_id IS 'Tenant id.';
COMMENT ON COLUMN bi.backlog.day IS 'Tenant-local day, at whose end they were open.';
COMMENT ON COLUMN bi.backlog.open_conversations IS 'Conversations open at midnight ending the day.';
COMMENT ON COLUMN bi.backlog.open_since_before IS 'Of those, started before the day began (open overnight at least once before).';

CREATE FUNCTION engage.multirange_seconds(r tstzmultirange) RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(sum(EXTRACT(epoch FROM upper(x) - lower(x))), 0) FROM unnest(r) x
$$;
COMMENT ON FUNCTION engage.multirange_seconds(tstzmultirange) IS 'Seconds a set of time ranges covers.';

-- When each agent handled each conversation on each local day: from
-- their first message in it that day to their last, kept by the load
-- (load.MessageBatch refreshes the conversations it commits), so
-- utilization looks up an agent's day instead of reading every message.
CREATE TABLE engage.agent_conversation_day (
    tenant_key      integer NOT NULL REFERENCES engage.dim_tenant,
    user_id         text NOT NULL,
    date_key        integer NOT NULL REFERENCES engage.dim_date,
    conversation_id text NOT NULL,
    first_at        timestamptz NOT NULL,
    last_at         timestamptz NOT NULL,
    loaded_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_key, user_id, date_key, conversation_id)
);
CREATE INDEX agent_conversation_day_conversation ON engage.agent_conversation_day (tenant_key, conversation_id);
COMMENT ON TABLE engage.agent_conversation_day IS 'Grain: one agent in one conversation on one tenant-local day: their first and last message in it that day (fact_message), refreshed by the load.';
COMMENT ON COLUMN engage.agent_conversation_day.tenant_key IS 'Tenant (dim_tenant).';
COMMENT ON COLUMN engage.agent_conversation_day.user_id IS 'The agent (e-mail, as fact_message.user_id).';
COMMENT ON COLUMN engage.agent_conversation_day.date_key IS 'Tenant-local day of the messages (dim_date).';
COMMENT ON COLUMN engage.agent_conversation_day.conversation_id IS 'Conversation (fact_conversation).';
COMMENT ON COLUMN engage.agent_conversation_day.first_at IS 'The agent''s first message in it that day.';
COMMENT ON COLUMN engage.agent_conversation_day.last_at IS 'The agent''s last message in it that day.';
COMMENT ON COLUMN engage.agent_conversation_day.loaded_at IS 'When this row was last written.';
INSERT INTO engage.agent_conversation_day (tenant_key, user_id, date_key, conversation_id, first_at, last_at)
SELECT tenant_key, user_id, date_key, conversation_id, min(sent_at), max(sent_at) FROM engage.fact_message
WHERE NOT from_customer AND user_id IS NOT NULL GROUP BY 1, 2, 3, 4;

CREATE VIEW bi.agent_utilization AS
WITH online AS (
    SELECT f.tenant_key, f.user_id, d.date_key, d.full_date AS day,
           range_agg(tstzrange(f.started_at, f.ended_at)
                     * tstzrange(d.full_date::timestamp AT TIME ZONE t.timezone, (d.full_date + 1)::timestamp AT TIME ZONE t.timezone)) AS ranges
    FROM engage.fact_agent_time f
    JOIN engage.dim_tenant t ON t.tenant_key = f.tenant_key
    JOIN engage.dim_date d ON d.full_date BETWEEN (f.started_at AT TIME ZONE t.timezone)::date AND (f.ended_at AT TIME ZONE t.timezone)::date
    WHERE f.kind = 'online'
    GROUP BY 1, 2, 3, 4
)
SELECT t.tenant_id, o.user_id AS agent_email, o.day,
       engage.multirange_seconds(o.ranges) AS online_seconds,
       engage.multirange_seconds(COALESCE(h.ranges * o.ranges, '{}')) AS in_conversation_seconds,
       round(engage.multirange_seconds(COALESCE(h.ranges * o.ranges, '{}')) / NULLIF(engage.multirange_seconds(o.ranges), 0), 4) AS utilization
FROM online o
JOIN engage.dim_tenant t ON t.tenant_key = o.tenant_key
LEFT JOIN LATERAL (
    SELECT range_agg(tstzrange(a.first_at, a.last_at)) AS ranges
    FROM engage.agent_conversation_day a
    WHERE a.tenant_key = o.tenant_key AND a.user_id = o.user_id AND a.date_key = o.date_key AND a.last_at > a.first_at
) h ON true;
COMMENT ON VIEW bi.agent_utilization IS 'Per agent and tenant-local day: seconds online, seconds of that online time the agent was handling a conversation (from their first message in it that day to their last that day, among the loaded messages), and their ratio.';
COMMENT ON COLUMN bi.agent_utilization.tenant_id IS 'Tenant id.';
COMMENT ON COLUMN bi.agent_utilization.agent_email IS 'Agent.';
COMMENT ON COLUMN bi.agent_utilization.day IS 'Tenant-local day; a range over midnight counts on both days.';
COMMENT ON COLUMN bi.agent_utilization.online_seconds IS 'Seconds online that day.';
COMMENT ON COLUMN bi.agent_utilization.in_conversation_seconds IS 'Of those, seconds handling at least one conversation (the agent''s first to last message in it that day).';
COMMENT ON COLUMN bi.agent_utilization.utilization IS 'in_conversation_seconds / online_seconds.';
