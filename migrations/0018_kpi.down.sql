DROP VIEW bi.agent_utilization, bi.backlog, bi.volume_by_local_hour, bi.service_level, bi.response_time_buckets,
    bi.conversation_response_times, bi.opening_hours, bi.sla_rules;
DROP TABLE engage.conversation_business, engage.agent_conversation_day;
DROP VIEW engage.conversation_business_now;
DROP FUNCTION engage.multirange_seconds(tstzmultirange);
DROP FUNCTION engage.business_seconds(jsonb, date[], text, timestamptz, timestamptz);
DROP TABLE engage.dim_sla_rule, engage.dim_opening_hours;
