// The route table and the dispatch checks (context, principal kind, canonical path,
// method, parameters), without a socket.

#include <gtest/gtest.h>

#include "edge/context.hpp"
#include "http/api_error.hpp"
#include "http/router.hpp"
#include "shared/parley_context.h"

namespace parley::http {
namespace {

using edge::principal_kind;

const std::string secret = "router-test-edge-secret-0123456789abcdef";
const std::string tenant = "3f1c2a9e-8b7d-4e21-9c3a-5d6e7f809a1b";
constexpr std::int64_t now_ms = 1'700'000'000'000;

handler noop() {
  return [](request&, responder&) -> asio::awaitable<void> { co_return; };
}

std::string context(principal_kind kind = principal_kind::key, std::int64_t signed_at_ms = now_ms) {
  edge::identity id;
  id.tenant_id = tenant;
  id.kind = kind;
  id.principal_id = "key-1";
  id.request_id = "req-1";
  id.signed_at_ms = signed_at_ms;
  return edge::sign_context(secret, id);
}

request make_request(std::string method, std::string path, const std::string& ctx) {
  request req;
  req.method = std::move(method);
  req.path = std::move(path);
  if (!ctx.empty()) req.headers.push_back({PARLEY_CONTEXT_HEADER, ctx});
  return req;
}

class Resolve : public ::testing::Test {
 protected:
  Resolve() {
    routes_.add("GET", "/v1/models", {principal_kind::key}, noop());
    routes_.add("POST", "/v1/chat/completions", {principal_kind::key}, noop());
    routes_.add("GET", "/v1/documents/{id}", {principal_kind::key, principal_kind::admin}, noop());
    routes_.add_public("GET", "/healthz", noop());
  }

  // The api_error resolve() throws for this request, or none.
  std::optional<api_error> refusal(request& req) const {
    try {
      routes_.resolve(req, verifier_, now_ms);
    } catch (const api_error& e) {
      return e;
    }
    return std::nullopt;
  }

  std::optional<api_error> refusal(const std::string& method, const std::string& path,
                                   const std::string& ctx) const {
    auto req = make_request(method, path, ctx);
    return refusal(req);
  }

  router routes_;
  edge::context_verifier verifier_{secret, {}};
};

TEST(Router, MatchesLiteralAndCapturedSegments) {
  router r;
  r.add("GET", "/v1/models", {edge::principal_kind::key}, noop());
  r.add("GET", "/v1/documents/{id}", {edge::principal_kind::key}, noop());
  r.add_public("GET", "/healthz", noop());

  auto m = r.match("GET", "/v1/documents/abc-123");
  ASSERT_NE(m.found, nullptr);
  EXPECT_EQ(m.params.at("id"), "abc-123");
  EXPECT_FALSE(m.found->is_public);

  m = r.match("GET", "/healthz");
  ASSERT_NE(m.found, nullptr);
  EXPECT_TRUE(m.found->is_public);

  // One spelling per path: the trailing slash is another path (it matched before).
  EXPECT_EQ(r.match("GET", "/v1/models/").found, nullptr);
  EXPECT_EQ(r.match("GET", "/v1/documents").found, nullptr);
  EXPECT_EQ(r.match("GET", "/v1/documents/a/b").found, nullptr);
}

TEST(Router, KnownPathWithOtherMethodIsDistinguishedFromUnknownPath) {
  router r;
  r.add("GET", "/v1/models", {edge::principal_kind::key}, noop());
  const auto wrong_method = r.match("POST", "/v1/models");
  EXPECT_EQ(wrong_method.found, nullptr);
  EXPECT_TRUE(wrong_method.path_known);
  const auto unknown = r.match("GET", "/v2/models");
  EXPECT_EQ(unknown.found, nullptr);
  EXPECT_FALSE(unknown.path_known);
}

TEST(Router, RefusesPatternsThatAreNotCanonical) {
  router r;
  EXPECT_THROW(r.add("GET", "/v1/models/", {principal_kind::key}, noop()), std::invalid_argument);
  EXPECT_THROW(r.add_public("GET", "healthz", noop()), std::invalid_argument);
}

TEST_F(Resolve, AcceptsAVerifiedContextAndSetsIdentityAndDecodedParams) {
  auto req = make_request("GET", "/v1/documents/a%20b", context());
  const auto& route = routes_.resolve(req, verifier_, now_ms);
  EXPECT_EQ(route.method, "GET");
  EXPECT_FALSE(route.is_public);
  EXPECT_EQ(req.params.at("id"), "a b");
  EXPECT_EQ(req.identity.tenant_id, tenant);
  EXPECT_EQ(req.identity.kind, principal_kind::key);
  EXPECT_EQ(req.identity.request_id, "req-1");
}

TEST_F(Resolve, PublicRoutesNeedNoContext) {
  auto req = make_request("GET", "/healthz", "");
  EXPECT_TRUE(routes_.resolve(req, verifier_, now_ms).is_public);
  EXPECT_TRUE(req.identity.tenant_id.empty());
}

TEST_F(Resolve, MissingForgedStaleAndFutureContextsAreInvalidContext) {
  std::string forged = context();
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  for (const auto& ctx : {std::string(), forged, std::string("v1.garbage"),
                          context(principal_kind::key, now_ms - 31'000),
                          context(principal_kind::key, now_ms + 60'000)}) {
    const auto e = refusal("GET", "/v1/models", ctx);
    ASSERT_TRUE(e.has_value()) << ctx;
    EXPECT_EQ(e->status(), 401u);
    EXPECT_EQ(e->code(), "invalid_context");
    EXPECT_EQ(e->type(), "invalid_request_error");
  }
}

TEST_F(Resolve, UnknownPathsAreRefusedLikeKnownOnesWithoutAContext) {
  for (const auto* path : {"/nowhere", "/v1/models/x", "/v1/models/", "/v1//models"}) {
    const auto without = refusal("GET", path, "");
    ASSERT_TRUE(without.has_value());
    EXPECT_EQ(without->status(), 401u) << path;
    const auto with = refusal("GET", path, context());
    ASSERT_TRUE(with.has_value());
    EXPECT_EQ(with->status(), 404u) << path;
  }
}

TEST_F(Resolve, AContextOfAnotherKindIsRefused) {
  auto req = make_request("GET", "/v1/models", context(principal_kind::widget));
  const auto e = refusal(req);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->status(), 401u);
  EXPECT_EQ(e->code(), "invalid_context");
  // Verified all the same: the refusal carries the request id.
  EXPECT_EQ(req.identity.request_id, "req-1");

  auto admin = make_request("GET", "/v1/documents/1", context(principal_kind::admin));
  EXPECT_NO_THROW(routes_.resolve(admin, verifier_, now_ms));
}

TEST_F(Resolve, AKnownPathWithAnotherMethodIs405AndAnUnknownOne404) {
  auto req = make_request("DELETE", "/v1/models", context());
  auto e = refusal(req);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->status(), 405u);
  EXPECT_EQ(req.identity.request_id, "req-1");

  e = refusal("GET", "/v2/models", context());
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->status(), 404u);
  EXPECT_EQ(e->code(), "not_found");
}

TEST_F(Resolve, OnlyTheCanonicalSpellingOfAPathIsServed) {
  const std::pair<const char*, const char*> spellings[] = {
      {"POST", "/v1/chat/completions/"},
      {"POST", "/v1//chat/completions"},
      {"POST", "//v1/chat/completions"},
      {"POST", "/v1/./chat/completions"},
      {"POST", "/v1/chat/../chat/completions"},
      {"POST", "/v1/chat%2Fcompletions"},
      {"POST", "/v1/chat%2fcompletions"},
      {"POST", "/v1/chat/%2E/completions"},
      {"POST", "/v1/chat/completions/."},
      {"POST", "/v1/chat/completions//"},
      {"GET", "/v1/models/"},
      {"GET", "/v1//models"},
      {"GET", "/v1/models/%2E%2E"},
      {"GET", "/v1/documents/a%2Fb"},
      {"GET", "/v1/documents/%2e%2e"},
      {"GET", "/v1/documents/.."},
      {"GET", "/v1/documents//"},
      {"GET", "/healthz/"},
  };
  for (const auto& [method, path] : spellings) {
    const auto e = refusal(method, path, context());
    ASSERT_TRUE(e.has_value()) << method << " " << path << " was served";
    EXPECT_EQ(e->status(), 404u) << path;
    EXPECT_EQ(e->code(), "not_found") << path;
  }
  EXPECT_NO_THROW({
    auto req = make_request("POST", "/v1/chat/completions", context());
    routes_.resolve(req, verifier_, now_ms);
  });
}

TEST_F(Resolve, ContextRoutesAreHeldUntilTheGateOpens) {
  readiness gate;
  routes_.hold_until(gate);
  auto health = make_request("GET", "/healthz", "");
  EXPECT_TRUE(routes_.resolve(health, verifier_, now_ms).is_public);
  auto e = refusal("GET", "/v1/models", context());
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->status(), 503u);
  EXPECT_EQ(e->code(), "not_ready");
  EXPECT_EQ(e->type(), "server_error");
  // without a valid context the answer stays 401: nothing shows before the signature
  e = refusal("GET", "/v1/models", "");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->status(), 401u);

  gate.set_ready();
  EXPECT_FALSE(refusal("GET", "/v1/models", context()).has_value());
}

TEST_F(Resolve, ABrokenEscapeInAParameterIsABadRequest) {
  const auto e = refusal("GET", "/v1/documents/%zz", context());
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->status(), 400u);
  EXPECT_EQ(e->code(), "invalid_path");
}

}  // namespace
}  // namespace parley::http
