#include "edge/context.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "base/crypto.hpp"
#include "shared/parley_context.h"

namespace parley::edge {
namespace {

constexpr std::string_view nil_uuid = PARLEY_NIL_TENANT;

bool is_token(std::string_view s) noexcept {
  return !s.empty() && s.size() <= PARLEY_CONTEXT_FIELD_MAX && std::ranges::all_of(s, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

bool is_base64url(std::string_view s) noexcept {
  return std::ranges::all_of(s, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// Splits on '.' into exactly N parts; false if the count differs.
template <std::size_t N>
bool split_exact(std::string_view s, std::array<std::string_view, N>& parts) noexcept {
  std::size_t n = 0;
  for (;;) {
    const auto dot = s.find('.');
    if (n == N) return false;
    parts[n++] = s.substr(0, dot);
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  return n == N;
}

std::optional<identity> parse(std::string_view header) noexcept {
  std::array<std::string_view, 7> p;
  if (header.size() > PARLEY_CONTEXT_MAX_LEN || !split_exact(header, p)) return std::nullopt;
  const auto [version, tenant, who, session, request, ms, sig] = p;
  if (version != PARLEY_CONTEXT_VERSION || !is_lower_uuid(tenant)) return std::nullopt;
  const auto colon = who.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto kind = parse_principal_kind(who.substr(0, colon));
  const auto principal = who.substr(colon + 1);
  if (!kind || !is_token(principal)) return std::nullopt;
  if (session != PARLEY_NO_SESSION && !is_token(session)) return std::nullopt;
  if (!is_token(request)) return std::nullopt;
  std::int64_t signed_at = 0;
  const auto [end, ec] = std::from_chars(ms.data(), ms.data() + ms.size(), signed_at);
  if (ms.empty() || ms.size() > 19 || ec != std::errc{} || end != ms.data() + ms.size() ||
      signed_at < 0) {
    return std::nullopt;
  }
  if (sig.size() != PARLEY_CONTEXT_SIG_LEN || !is_base64url(sig)) return std::nullopt;
  // Edge-internal principals carry the nil tenant; tenant principals a real one.
  const bool internal = *kind == principal_kind::edge || *kind == principal_kind::admin;
  if (!internal && tenant == nil_uuid) return std::nullopt;

  identity id;
  id.tenant_id = tenant;
  id.kind = *kind;
  id.principal_id = principal;
  if (session != PARLEY_NO_SESSION) id.session_id = std::string(session);
  id.request_id = request;
  id.signed_at_ms = signed_at;
  return id;
}

std::string signed_part(const identity& id) {
  std::string out = PARLEY_CONTEXT_VERSION;
  out += '.';
  out += id.tenant_id;
  out += '.';
  out += to_string(id.kind);
  out += ':';
  out += id.principal_id;
  out += '.';
  out += id.session_id ? *id.session_id : std::string(PARLEY_NO_SESSION);
  out += '.';
  out += id.request_id;
  out += '.';
  out += std::to_string(id.signed_at_ms);
  return out;
}

}  // namespace

std::string_view to_string(context_error error) noexcept {
  switch (error) {
    case context_error::none: return "none";
    case context_error::malformed: return "malformed";
    case context_error::signature: return "signature";
    case context_error::expired: return "expired";
    case context_error::future: return "future";
  }
  return "malformed";
}

context_verifier::context_verifier(std::string secret, context_limits limits)
    : secret_(std::move(secret)), limits_(limits) {}

verify_result context_verifier::verify(std::string_view header, std::int64_t now_ms) const {
  auto id = parse(header);
  if (!id) return {std::nullopt, context_error::malformed};
  const auto last_dot = header.rfind('.');
  const auto expected = base::base64url(base::hmac_sha256(secret_, header.substr(0, last_dot)));
  if (!base::constant_time_equal(expected, header.substr(last_dot + 1))) {
    return {std::nullopt, context_error::signature};
  }
  if (now_ms - id->signed_at_ms > limits_.max_age_ms) return {std::nullopt, context_error::expired};
  if (id->signed_at_ms - now_ms > limits_.max_skew_ms) return {std::nullopt, context_error::future};
  return {std::move(id), context_error::none};
}

std::string sign_context(std::string_view secret, const identity& id) {
  std::string out = signed_part(id);
  const std::string sig = base::base64url(base::hmac_sha256(secret, out));
  out += '.';
  out += sig;
  return out;
}

}  // namespace parley::edge
