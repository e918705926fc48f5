-- `parley reindex` embeds a tenant's chunks with another embedder while serving
-- goes on from the vectors they have: the new vectors wait here, and one
-- transaction moves them into place and switches the tenant's embedder.
ALTER TABLE chunks
  ADD COLUMN next_embedding bytea,
  ADD COLUMN next_embedding_model text;
