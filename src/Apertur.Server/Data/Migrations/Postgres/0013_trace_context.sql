-- The W3C traceparent of an upload's commit span, when the upload was traced (docs/operations.md "Metrics and traces"):
-- each delivery attempt, run later by a worker, continues that trace. NULL when nobody traced the upload.
ALTER TABLE images ADD COLUMN trace_parent TEXT NULL;
