-- The operator-wide usage view (`parley usage --all`) reads across tenants, which
-- the engine's role never can: a role of its own, parley_reporting (LOGIN
-- NOBYPASSRLS), that may read usage_daily of every tenant and the tenants' ids,
-- slugs and names, and nothing else: no conversation, document, key or setting,
-- and no write. The deployment creates the role (README, Deploying); without it
-- this migration grants nothing and says so.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'parley_reporting') THEN
    GRANT USAGE ON SCHEMA public TO parley_reporting;
    GRANT SELECT (id, slug, name) ON tenants TO parley_reporting;
    GRANT SELECT ON usage_daily TO parley_reporting;
    CREATE POLICY reporting_reads_all ON usage_daily FOR SELECT TO parley_reporting
      USING (true);
  ELSE
    RAISE NOTICE 'role parley_reporting does not exist: parley usage --all will be refused';
  END IF;
END
$$;
