-- Widget sessions end with their tenant or their publishable key. The edge checks a
-- widget token by its signature alone, so the engine must know, on each request,
-- which publishable key opened the session: revoking that key (or deactivating the
-- tenant) then ends its sessions at once instead of when their tokens expire.
--
-- Composite (tenant_id, id) like every other link between tenant rows, so a session
-- can never name another tenant's key. API sessions name no key (NULL).

ALTER TABLE api_keys ADD CONSTRAINT api_keys_tenant_id_id_key UNIQUE (tenant_id, id);

ALTER TABLE sessions ADD COLUMN publishable_key_id uuid;
ALTER TABLE sessions ADD CONSTRAINT sessions_publishable_key_fkey
  FOREIGN KEY (tenant_id, publishable_key_id) REFERENCES api_keys (tenant_id, id)
  ON DELETE SET NULL (publishable_key_id);

-- A widget session without a key (its key was deleted, or it was opened before this
-- migration) is refused by the engine: fail closed. Its visitor opens a new session;
-- tokens live at most 15 minutes anyway. No CHECK constraint for it, so that such a
-- row stays writable (the API may continue its conversation).
