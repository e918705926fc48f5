-- Every engine keeps each tenant's agents (with their personas) and knowledge
-- version in memory, so that a chat turn reaches the LLM without a database round
-- trip. These triggers tell every engine at once, over LISTEN/NOTIFY on the channel
-- parley_tenant_changed with the tenant's id as payload, that such state changed:
-- disabling an agent or deactivating a tenant takes effect at the next request.
-- Notifications are sent when the transaction commits, and identical ones within a
-- transaction are sent once (an ingest of many documents notifies once).

CREATE FUNCTION parley_notify_tenant_row_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('parley_tenant_changed', COALESCE(NEW.id, OLD.id)::text);
  RETURN NULL;
END
$$;

CREATE FUNCTION parley_notify_tenant_data_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('parley_tenant_changed', COALESCE(NEW.tenant_id, OLD.tenant_id)::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER tenants_notify_change AFTER UPDATE OR DELETE ON tenants
  FOR EACH ROW EXECUTE FUNCTION parley_notify_tenant_row_changed();
CREATE TRIGGER agents_notify_change AFTER INSERT OR UPDATE OR DELETE ON agents
  FOR EACH ROW EXECUTE FUNCTION parley_notify_tenant_data_changed();
CREATE TRIGGER personas_notify_change AFTER INSERT OR UPDATE OR DELETE ON personas
  FOR EACH ROW EXECUTE FUNCTION parley_notify_tenant_data_changed();
