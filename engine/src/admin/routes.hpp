#pragma once

// The admin API (SPEC 4.1 "Admin"), reachable only with an admin context (the edge
// checked the admin token):
//   GET  /admin/v1/tenants                 POST /admin/v1/tenants
//   GET  /admin/v1/tenants/{slug}          PATCH /admin/v1/tenants/{slug}
//   GET  /admin/v1/tenants/{slug}/keys     POST /admin/v1/tenants/{slug}/keys  (key shown once)
//   DELETE /admin/v1/keys/{id}
//   GET  /admin/v1/tenants/{slug}/agents   POST /admin/v1/tenants/{slug}/agents
// Bodies are parsed into the service's structs at the door; unknown fields and wrong
// types are refused (400) before anything changes.

#include "http/router.hpp"

namespace parley::store {
class database;
}

namespace parley::admin {

void add_admin_routes(http::router& routes, store::database& db);

}  // namespace parley::admin
