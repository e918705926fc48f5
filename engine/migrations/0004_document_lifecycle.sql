-- Documents uploaded through the API are processed after the upload is answered:
-- a document is 'processing' until its chunks are stored ('ready') or extraction
-- failed ('failed', with the reason a tenant's developer reads in GET).
ALTER TABLE documents
  ADD COLUMN error text,
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- Identical content is stored once per tenant, also when two uploads race.
CREATE UNIQUE INDEX documents_tenant_sha_idx ON documents (tenant_id, content_sha256);

-- A chunk knows where in its document it came from: the heading path of its
-- section ("Leave › Parental leave") and, for a PDF, its 1-based page. Both are
-- cited with the chunk.
ALTER TABLE chunks
  ADD COLUMN heading text NOT NULL DEFAULT '',
  ADD COLUMN page integer CHECK (page >= 1);
