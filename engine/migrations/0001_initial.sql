-- The whole schema of SPEC 5. Run by `parley migrate` as the owner role (parley_owner);
-- the engine connects as parley_app, which owns nothing, has no BYPASSRLS, and gets DML
-- grants at the end of this file.
--
-- Per-tenant tables carry tenant_id and a row-level-security policy on the
-- transaction-local setting parley.tenant_id (set by store::database::with_tenant).
-- Relations between per-tenant rows use composite foreign keys (tenant_id, id), so a
-- row can never point at another tenant's row even if application code got it wrong.

-- ---- platform ---------------------------------------------------------------------

CREATE TABLE tenants (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug               text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  tier               text NOT NULL DEFAULT 'shared' CHECK (tier IN ('shared', 'dedicated')),
  is_active          boolean NOT NULL DEFAULT true,
  rate_rpm           integer CHECK (rate_rpm > 0),
  rate_burst         integer CHECK (rate_burst > 0),
  max_streams        integer CHECK (max_streams > 0),
  budget_tokens_day    bigint CHECK (budget_tokens_day >= 0),
  budget_tokens_month  bigint CHECK (budget_tokens_month >= 0),
  budget_cost_day      numeric(14, 6) CHECK (budget_cost_day >= 0),
  budget_cost_month    numeric(14, 6) CHECK (budget_cost_month >= 0),
  allowed_origins    text[] NOT NULL DEFAULT '{}',
  settings           jsonb NOT NULL DEFAULT '{}',
  knowledge_version  bigint NOT NULL DEFAULT 0,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  prefix        text NOT NULL UNIQUE CHECK (prefix ~ '^[a-z0-9]{12}$'),
  key_hash      text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
  kind          text NOT NULL CHECK (kind IN ('secret', 'publishable')),
  scopes        text[] NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id);

-- Provider API keys per tenant, AES-256-GCM under the operator's master key.
CREATE TABLE provider_credentials (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  provider     text NOT NULL,
  ciphertext   bytea NOT NULL,
  nonce        bytea NOT NULL,
  key_version  integer NOT NULL DEFAULT 1,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, provider)
);

-- Dedicated tier: the tenant's own database, its DSN encrypted like the credentials.
CREATE TABLE tenant_databases (
  tenant_id       uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  dsn_ciphertext  bytea NOT NULL,
  nonce           bytea NOT NULL,
  key_version     integer NOT NULL DEFAULT 1,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_log (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid REFERENCES tenants (id) ON DELETE SET NULL,
  actor       text NOT NULL,
  action      text NOT NULL,
  target      text,
  details     jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, created_at);

-- ---- per tenant -------------------------------------------------------------------

CREATE TABLE personas (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  code           text NOT NULL,
  name           text NOT NULL,
  description    text,
  system_prompt  text NOT NULL,
  is_default     boolean NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, code),
  UNIQUE (tenant_id, id)
);

CREATE TABLE agents (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id           uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  code                text NOT NULL CHECK (code ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  name                text NOT NULL,
  persona_id          uuid,
  greeting            text,
  refusal_text        text NOT NULL DEFAULT 'I don''t have that information.',
  model_settings      jsonb NOT NULL DEFAULT '{}',
  retrieval_settings  jsonb NOT NULL DEFAULT '{}',
  is_enabled          boolean NOT NULL DEFAULT true,
  created_at          timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, code),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, persona_id) REFERENCES personas (tenant_id, id) ON DELETE SET NULL (persona_id)
);

CREATE TABLE documents (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  title           text NOT NULL,
  source_uri      text,
  mime_type       text NOT NULL,
  content_sha256  text NOT NULL,
  byte_size       bigint NOT NULL CHECK (byte_size >= 0),
  chunk_count     integer NOT NULL DEFAULT 0,
  status          text NOT NULL DEFAULT 'ready' CHECK (status IN ('pending', 'processing', 'ready', 'failed')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id)
);
CREATE INDEX documents_tenant_idx ON documents (tenant_id, created_at);

CREATE TABLE chunks (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL,
  document_id      uuid NOT NULL,
  ordinal          integer NOT NULL CHECK (ordinal >= 0),
  content          text NOT NULL,
  token_count      integer NOT NULL CHECK (token_count >= 0),
  embedding        bytea,            -- float32 little-endian, dimension = length / 4
  embedding_model  text,
  lexical          tsvector GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED,
  created_at       timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, document_id) REFERENCES documents (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX chunks_document_idx ON chunks (tenant_id, document_id, ordinal);
CREATE INDEX chunks_lexical_idx ON chunks USING gin (lexical);

CREATE TABLE agent_documents (
  tenant_id    uuid NOT NULL,
  agent_id     uuid NOT NULL,
  document_id  uuid NOT NULL,
  enabled      boolean NOT NULL DEFAULT true,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (agent_id, document_id),
  FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, document_id) REFERENCES documents (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX agent_documents_agent_idx ON agent_documents (tenant_id, agent_id, enabled);
CREATE INDEX agent_documents_document_idx ON agent_documents (tenant_id, document_id);

CREATE TABLE sessions (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  agent_id          uuid,
  channel           text NOT NULL CHECK (channel IN ('api', 'widget')),
  external_user     text,
  email             text,
  is_anonymous      boolean NOT NULL DEFAULT true,
  created_at        timestamptz NOT NULL DEFAULT now(),
  last_activity_at  timestamptz NOT NULL DEFAULT now(),
  metadata          jsonb NOT NULL DEFAULT '{}',
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id) ON DELETE SET NULL (agent_id)
);
CREATE INDEX sessions_email_idx ON sessions (tenant_id, email);
CREATE INDEX sessions_activity_idx ON sessions (tenant_id, last_activity_at);

CREATE TABLE messages (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL,
  session_id  uuid NOT NULL,
  role        text NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
  content     text NOT NULL,
  metadata    jsonb NOT NULL DEFAULT '{}',   -- citations, retrieval scores
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, session_id) REFERENCES sessions (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX messages_session_idx ON messages (session_id, created_at);

CREATE TABLE conversation_summaries (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      uuid NOT NULL,
  session_id     uuid NOT NULL,
  summary        text NOT NULL,
  message_count  integer NOT NULL DEFAULT 0,
  created_at     timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, session_id) REFERENCES sessions (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX conversation_summaries_session_idx ON conversation_summaries (session_id, created_at);

CREATE TABLE profiles (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id             uuid NOT NULL,
  session_id            uuid,
  customer_name         text,
  email                 text,
  phone                 text,
  address_street        text,
  address_city          text,
  address_state         text,
  address_zip           text,
  products_of_interest  text[] NOT NULL DEFAULT '{}',
  services_of_interest  text[] NOT NULL DEFAULT '{}',
  preferences           jsonb NOT NULL DEFAULT '{}',
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, session_id) REFERENCES sessions (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX profiles_email_idx ON profiles (tenant_id, email);
CREATE INDEX profiles_session_idx ON profiles (session_id);

-- Accounting rows outlive the conversation they belong to (privacy deletion removes
-- the session but not the spend), hence SET NULL on the session and message links.
CREATE TABLE llm_requests (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id             uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  session_id            uuid,
  message_id            uuid,
  provider              text NOT NULL,
  model                 text NOT NULL,
  prompt_tokens         integer NOT NULL DEFAULT 0,
  completion_tokens     integer NOT NULL DEFAULT 0,
  total_tokens          integer NOT NULL DEFAULT 0,
  usage_estimated       boolean NOT NULL DEFAULT false,
  unit_cost_prompt      numeric(14, 8),
  unit_cost_completion  numeric(14, 8),
  computed_cost         numeric(14, 8),
  latency_ms            integer,
  ttft_ms               integer,
  status                text NOT NULL CHECK (status IN ('ok', 'error', 'cancelled')),
  error                 text,
  created_at            timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, session_id) REFERENCES sessions (tenant_id, id) ON DELETE SET NULL (session_id),
  FOREIGN KEY (tenant_id, message_id) REFERENCES messages (tenant_id, id) ON DELETE SET NULL (message_id)
);
CREATE INDEX llm_requests_session_idx ON llm_requests (session_id, created_at);
CREATE INDEX llm_requests_tenant_idx ON llm_requests (tenant_id, created_at);

CREATE TABLE usage_daily (
  tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  day                date NOT NULL,
  model              text NOT NULL,
  requests           integer NOT NULL DEFAULT 0,
  prompt_tokens      bigint NOT NULL DEFAULT 0,
  completion_tokens  bigint NOT NULL DEFAULT 0,
  cost               numeric(14, 8) NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, day, model)
);

CREATE TABLE email_events (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id          uuid NOT NULL,
  session_id         uuid,
  to_email           text NOT NULL,
  subject            text NOT NULL,
  body               text NOT NULL,
  provider           text NOT NULL,
  provider_response  jsonb NOT NULL DEFAULT '{}',
  status             text NOT NULL CHECK (status IN ('sent', 'failed')),
  error              text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, session_id) REFERENCES sessions (tenant_id, id) ON DELETE SET NULL (session_id)
);
CREATE INDEX email_events_tenant_idx ON email_events (tenant_id, created_at);

CREATE TABLE otp_links (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  email        text NOT NULL,
  purpose      text NOT NULL CHECK (purpose IN ('link_session', 'delete_data', 'export_data')),
  otp_hash     text NOT NULL,
  session_id   uuid,
  attempts     integer NOT NULL DEFAULT 0,
  expires_at   timestamptz NOT NULL,
  consumed_at  timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX otp_links_email_idx ON otp_links (tenant_id, email, purpose);

-- ---- row-level security -------------------------------------------------------------

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['personas', 'agents', 'documents', 'chunks', 'agent_documents',
                           'sessions', 'messages', 'conversation_summaries', 'profiles',
                           'llm_requests', 'usage_daily', 'email_events', 'otp_links']
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

-- ---- privileges for the engine role -------------------------------------------------

GRANT USAGE ON SCHEMA public TO parley_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON
  tenants, api_keys, provider_credentials, tenant_databases,
  personas, agents, documents, chunks, agent_documents, sessions, messages,
  conversation_summaries, profiles, llm_requests, usage_daily, email_events, otp_links
  TO parley_app;
GRANT SELECT, INSERT ON audit_log TO parley_app;         -- append-only
GRANT SELECT ON schema_migrations TO parley_app;         -- for /readyz
