-- 008: GET /api/v1/runs?label=k=v finds runs by their labels (labels @> '{"k":"v"}').
CREATE INDEX runs_labels ON runs USING gin (labels jsonb_path_ops);
