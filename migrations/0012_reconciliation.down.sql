DROP VIEW bi.reconciliation;
DROP TABLE etl.reconciliation;
