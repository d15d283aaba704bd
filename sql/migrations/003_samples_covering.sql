-- Metric queries read many samples of a few series.  Samples arrive in time
-- order (every export carries all series), so one series' samples lie on a
-- different heap page each; an index that carries the value answers
-- gauge/sum queries with index-only scans (measured: sum over 100 series x
-- 1,440 samples among 14.4 M, 1.2 s -> under 0.2 s).
DROP INDEX IF EXISTS metric_samples_series_time;
CREATE INDEX metric_samples_series_time ON metric_samples (series_id, time) INCLUDE (value);
