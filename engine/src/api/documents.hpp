#pragma once

// A tenant's documents through the API (secret key):
//
//   POST   /v1/documents                       upload (multipart or JSON): 202 with the
//                                              document 'processing', or 200 with the
//                                              existing one and "duplicate": true
//   GET    /v1/documents?limit&after&agent&status   newest first, paged
//   GET    /v1/documents/{id}                  poll its status
//   DELETE /v1/documents/{id}                  with its chunks and embeddings
//   PUT    /v1/agents/{code}/documents/{id}    enable it for an agent
//   DELETE /v1/agents/{code}/documents/{id}    and disable it again
//
// Every statement runs in the key's tenant transaction (RLS): another tenant's
// document id, guessed or known, is simply not found.

#include "chat/pipeline.hpp"
#include "http/router.hpp"
#include "knowledge/document_service.hpp"

namespace parley::store {
class database;
}

namespace parley::api {

// `pipeline` hears of deletions and assignment changes at once.
void add_document_routes(http::router& routes, store::database& db,
                         knowledge::document_service& documents, chat::pipeline& pipeline);

}  // namespace parley::api
