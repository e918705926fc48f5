-- Hard budgets (SPEC 4.3): what each tenant has spent today and this month (UTC),
-- calls in flight included. A call reserves its most (the prompt's estimated tokens
-- plus its max_tokens, priced) with one conditional upsert of this row, which
-- PostgreSQL applies to the row's latest version under its lock, so concurrent
-- calls cannot overshoot; the real usage is settled when the call is stored. One
-- row per tenant, kept apart from `tenants`, whose updates notify every engine.
CREATE TABLE tenant_spend (
  tenant_id     uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  day           date NOT NULL,
  day_tokens    bigint NOT NULL DEFAULT 0,
  day_cost      numeric(18, 8) NOT NULL DEFAULT 0,
  month         date NOT NULL,          -- the month's first day
  month_tokens  bigint NOT NULL DEFAULT 0,
  month_cost    numeric(18, 8) NOT NULL DEFAULT 0
);

-- Usage per tenant, UTC day, agent and model, written in the transaction that
-- stores each llm_requests row, so that the two always agree. Turns answered
-- without a call (no relevant knowledge: the agent's refusal; over budget:
-- insufficient_quota) are counted under model ''. Nothing wrote the former table.
DROP TABLE usage_daily;
CREATE TABLE usage_daily (
  tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  day                date NOT NULL,
  agent_id           uuid NOT NULL,     -- no foreign key: usage outlives a deleted agent
  model              text NOT NULL,
  requests           bigint NOT NULL DEFAULT 0,  -- LLM calls (llm_requests rows)
  prompt_tokens      bigint NOT NULL DEFAULT 0,
  completion_tokens  bigint NOT NULL DEFAULT 0,
  cost               numeric(18, 8) NOT NULL DEFAULT 0,
  errors             bigint NOT NULL DEFAULT 0,
  cancelled          bigint NOT NULL DEFAULT 0,
  refusals           bigint NOT NULL DEFAULT 0,  -- nothing relevant known: no call
  budget_refusals    bigint NOT NULL DEFAULT 0,  -- over budget: no call
  PRIMARY KEY (tenant_id, day, agent_id, model)
);

ALTER TABLE llm_requests ADD COLUMN agent_id uuid;

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tenant_spend', 'usage_daily']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
                      USING (tenant_id = NULLIF(current_setting('parley.tenant_id', true), '')::uuid)
                      WITH CHECK (tenant_id = NULLIF(current_setting('parley.tenant_id', true), '')::uuid)$p$,
                   t);
  END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_spend, usage_daily TO parley_app;
