#pragma once

// The widget's credentials besides its token (widget/token.hpp), each a JWS of the
// widget key ring (widget/jws.hpp) with an audience of its own, so that none is ever
// taken for another:
//
//   stream id  "parley-widget-stream"  the {stream_id} of GET /widget/v1/streams/:
//              one answer stream (sti) of one session; the edge verifies it as the
//              route's credential, so a browser's EventSource needs no bearer token
//   ticket     "parley-widget-ticket"  carried by the frame page: the tenant's site
//              key was asked for from an origin the tenant allows, and the browser
//              renders that page only inside that origin (frame-ancestors); the frame
//              trades it for a session at POST /widget/v1/session
//   resume     "parley-widget-resume"  kept in the frame's storage: picks the same
//              conversation up after a reload, and renews the token
//
// Claims are those of a token (iss, aud, tid, org, iat, nbf, exp) plus each kind's
// own: sid/agt/sti and the tenant's plan (pln, as in a token: the edge's stream
// limits) for a stream, key (the site key's id) and agt for a ticket, sid/agt for a
// resume credential.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/key_ring.hpp"
#include "shared/parley_widget_token.h"
#include "store/tenant_plan.hpp"

namespace parley::widget {

inline constexpr std::string_view stream_audience = PARLEY_WIDGET_STREAM_AUDIENCE;
inline constexpr std::string_view ticket_audience = PARLEY_WIDGET_TICKET_AUDIENCE;
inline constexpr std::string_view resume_audience = PARLEY_WIDGET_RESUME_AUDIENCE;

inline constexpr std::int64_t ticket_ttl_s = PARLEY_WIDGET_TICKET_LIFETIME_MAX;
inline constexpr std::int64_t resume_ttl_max_s = PARLEY_WIDGET_RESUME_LIFETIME_MAX;

// What every widget credential says: when, by whom, for which tenant and origin.
struct credential_base {
  std::string issuer;
  std::string tenant_id;
  std::string origin;
  std::int64_t issued_at = 0;  // unix seconds
  std::int64_t ttl_s = 0;
};

struct stream_claims {
  credential_base base;
  std::string session_id;
  std::string agent;
  std::string stream_key;   // sti: the stream's own random id
  store::tenant_plan plan;  // pln: the tenant's plan, for the edge's limits
};

struct ticket_claims {
  credential_base base;
  std::string key_id;  // the publishable key the frame was asked for with
  std::optional<std::string> agent;
};

struct resume_claims {
  credential_base base;
  std::string session_id;
  std::string agent;
};

std::string mint_stream_id(const config::ring_key& key, const stream_claims& c);
std::string mint_ticket(const config::ring_key& key, const ticket_claims& c);
std::string mint_resume(const config::ring_key& key, const resume_claims& c);

// The claims of a credential of that kind valid at `now`, or nothing.
std::optional<stream_claims> read_stream_id(const std::vector<config::ring_key>& ring,
                                            std::string_view text, std::int64_t now);
std::optional<ticket_claims> read_ticket(const std::vector<config::ring_key>& ring,
                                         std::string_view text, std::int64_t now);
std::optional<resume_claims> read_resume(const std::vector<config::ring_key>& ring,
                                         std::string_view text, std::int64_t now);

}  // namespace parley::widget
