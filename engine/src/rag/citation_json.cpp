#include "rag/citation_json.hpp"

namespace parley::rag {

nlohmann::json citations_json(const std::vector<citation>& citations) {
  auto out = nlohmann::json::array();
  for (const auto& c : citations) {
    out.push_back({{"index", c.index},
                   {"document_id", c.document_id},
                   {"title", c.title},
                   {"source_uri", c.source_uri},
                   {"chunk", c.chunk},
                   {"section", c.section},
                   {"page", c.page == 0 ? nlohmann::json(nullptr) : nlohmann::json(c.page)},
                   {"score", c.score},
                   {"snippet", c.snippet}});
  }
  return out;
}

}  // namespace parley::rag
