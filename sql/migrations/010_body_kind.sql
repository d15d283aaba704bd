-- The kind of a log record's body (docs/query-api.md, "GET /api/observe/logs":
-- body_type and body): its OTLP AnyValue field, 1 string, 2 bool, 3 int,
-- 4 double, 5 array, 6 kvlist, 7 bytes; NULL without a body.  A body that
-- is not a string is stored, as before, as its JSON in message.  Nullable
-- and without a default: adding it rewrites nothing.
ALTER TABLE log_entries ADD COLUMN body_kind smallint;
