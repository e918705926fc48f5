-- Every LLM call adds to its tenant's usage_daily line in the call's own
-- transaction. With one row per tenant, day, agent and model, the calls of a busy
-- tenant all updated the same row, each waiting for the one before it to commit:
-- at 1,000 streams in flight, a quarter of the engine's throughput
-- (bench/engine.py). The line is striped: a call adds to one of 32 rows of it,
-- chosen at random, and every reader sums the rows (a line is their sum).
ALTER TABLE usage_daily ADD COLUMN stripe smallint NOT NULL DEFAULT 0
  CHECK (stripe >= 0 AND stripe < 32);
ALTER TABLE usage_daily DROP CONSTRAINT usage_daily_pkey;
ALTER TABLE usage_daily ADD PRIMARY KEY (tenant_id, day, agent_id, model, stripe);
