#pragma once

// The route table, and the checks a request passes before its handler runs: the
// edge's signed context, the caller's kind, the method and the one canonical
// spelling of the path. No sockets here: the connection asks resolve() and runs the
// handler it returns.

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "edge/context.hpp"
#include "edge/identity.hpp"
#include "http/readiness.hpp"
#include "http/route.hpp"

namespace parley::http {

class router {
 public:
  struct route {
    std::string method;
    std::vector<std::string> segments;        // "{name}" captures one segment
    bool is_public = false;                   // no X-Parley-Context needed
    std::vector<edge::principal_kind> kinds;  // who may call it
    http::handler handler;
    std::string secret_path;  // logged instead of a path with a credential
    std::string pattern;      // as added: the metrics' route label
  };

  struct match_result {
    const route* found = nullptr;
    std::map<std::string, std::string> params;  // "{name}" segments as sent (encoded)
    bool path_known = false;                    // some route has the path: 405, not 404
  };

  // `pattern` like "/v1/documents/{id}", canonical (std::invalid_argument otherwise).
  // Callers must present a verified context of one of `kinds`.
  void add(std::string method, std::string_view pattern,
           std::initializer_list<edge::principal_kind> kinds, handler h);

  // A route whose path carries a credential (the widget's stream id): its requests
  // are logged under `pattern`, never with the path they came with.
  void add_credential_path(std::string method, std::string_view pattern,
                           std::initializer_list<edge::principal_kind> kinds, handler h);

  // Reachable without a context: only /healthz and /readyz.
  void add_public(std::string method, std::string_view pattern, handler h);

  // The route that answers `req`, with req.identity set from its verified context
  // and req.params percent-decoded. Throws api_error:
  //   401 invalid_context  a context that is missing, forged, expired or dated in the
  //                        future (unknown paths too, so that nothing of the route
  //                        table shows without the edge's signature), or of a kind
  //                        the route does not accept;
  //   404 not_found        no such path, or not its canonical spelling;
  //   405                  the path exists with other methods;
  //   400 invalid_path     a broken percent-escape in a "{name}" segment;
  //   503 not_ready        held: the engine's start-up checks have not passed.
  // req.identity is set before the 404, 405 and kind refusals, so they carry the
  // request id.
  const route& resolve(request& req, const edge::context_verifier& verifier,
                       std::int64_t now_ms) const;

  // The table lookup alone. A path that is not canonical matches nothing.
  match_result match(std::string_view method, std::string_view path) const;

  // Until `gate` is ready, resolve() answers every route that needs a context with
  // 503 not_ready (after the context check: nothing shows without the edge's
  // signature); without a gate routes always run. `gate` must outlive the router.
  void hold_until(const readiness& gate) noexcept { gate_ = &gate; }

 private:
  std::vector<route> routes_;
  const readiness* gate_ = nullptr;
};

}  // namespace parley::http
