-- Tenants' own provider credentials (an API key per provider name), sealed with
-- AES-256-GCM under the operator's master key ring (llm.master_keys_file). A row
-- names the ring key that sealed it, so that the ring can grow and
-- `parley rotate-master-key` can seal every row again with the newest key; the
-- tenant id and provider are authenticated with the ciphertext, so a row copied to
-- another tenant or provider does not open. Nobody reads a credential back: the
-- engine opens them only to call the provider.
--
-- Tenant-scoped like the tenant's other data (row-level security), and cached by
-- every engine with the tenant's agents: a change notifies them (migration 0003).

ALTER TABLE provider_credentials DROP COLUMN key_version;
ALTER TABLE provider_credentials ADD COLUMN key_id text NOT NULL;

ALTER TABLE provider_credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE provider_credentials FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON provider_credentials
  USING (tenant_id = NULLIF(current_setting('parley.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('parley.tenant_id', true), '')::uuid);

CREATE TRIGGER provider_credentials_notify_change
  AFTER INSERT OR UPDATE OR DELETE ON provider_credentials
  FOR EACH ROW EXECUTE FUNCTION parley_notify_tenant_data_changed();
