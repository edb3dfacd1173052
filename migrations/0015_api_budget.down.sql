DROP TABLE etl.api_budget;
