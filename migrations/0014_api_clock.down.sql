DROP TABLE etl.api_clock;
