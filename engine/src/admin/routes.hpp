#pragma once

// The admin API (SPEC 4.1 "Admin"), reachable only with an admin context (the edge
// checked the admin token):
//   GET  /admin/v1/tenants                 POST /admin/v1/tenants
//   GET  /admin/v1/tenants/{slug}          PATCH /admin/v1/tenants/{slug}
//   GET  /admin/v1/tenants/{slug}/keys     POST /admin/v1/tenants/{slug}/keys  (key shown once)
//   DELETE /admin/v1/keys/{id}
//   GET  /admin/v1/tenants/{slug}/agents   POST /admin/v1/tenants/{slug}/agents
//   PATCH /admin/v1/tenants/{slug}/agents/{code}
//   GET  /admin/v1/tenants/{slug}/personas PUT /admin/v1/tenants/{slug}/personas/{code}
//   GET  /admin/v1/tenants/{slug}/usage
//   GET  /admin/v1/tenants/{slug}/credentials
//   PUT | DELETE /admin/v1/tenants/{slug}/credentials/{provider}  (write-only)
// Bodies are parsed into the service's structs at the door; unknown fields and wrong
// types are refused (400) before anything changes.

#include "admin/service.hpp"
#include "http/router.hpp"

namespace parley::store {
class database;
}

namespace parley::admin {

// `catalog` must outlive the routes.
void add_admin_routes(http::router& routes, store::database& db, const provider_catalog& catalog);

}  // namespace parley::admin
