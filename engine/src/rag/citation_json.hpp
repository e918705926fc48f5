#pragma once

// The one JSON shape of citations, for the wire (the OpenAI "citations" extension,
// the widget) and for messages.metadata. Kept apart from rag/citation.hpp so that
// code without JSON (the chat pipeline) can use citations.

#include <nlohmann/json.hpp>

#include <vector>

#include "rag/citation.hpp"

namespace parley::rag {

// [{"index","document_id","title","source_uri","chunk","section","page","score",
//   "snippet"}, ...]; "page" is null for formats without pages
nlohmann::json citations_json(const std::vector<citation>& citations);

}  // namespace parley::rag
