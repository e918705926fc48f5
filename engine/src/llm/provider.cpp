#include "llm/provider.hpp"

#include "rag/text.hpp"

namespace parley::llm {

std::string_view to_string(failure_kind kind) noexcept {
  switch (kind) {
    case failure_kind::unreachable: return "unreachable";
    case failure_kind::timeout: return "timeout";
    case failure_kind::refused: return "refused";
    case failure_kind::broken: return "broken";
    case failure_kind::cancelled: return "cancelled";
  }
  return "broken";
}

std::string_view to_string(role r) noexcept {
  switch (r) {
    case role::system: return "system";
    case role::user: return "user";
    case role::assistant: return "assistant";
  }
  return "user";
}

std::int64_t estimate_tokens(std::string_view text) {
  return static_cast<std::int64_t>(rag::count_tokens(text));
}

std::int64_t estimate_prompt_tokens(const std::vector<message>& messages) {
  // OpenAI's chat format costs a few tokens per message for the role markers.
  constexpr std::int64_t per_message = 4;
  std::int64_t total = 0;
  for (const auto& m : messages) total += per_message + estimate_tokens(m.content);
  return total;
}

}  // namespace parley::llm
