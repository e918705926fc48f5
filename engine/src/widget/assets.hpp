#pragma once

// The widget's static files (engine/web/, compiled in), for browsers to keep:
//   GET /widget.js                 the loader a tenant's page includes; revalidated
//                                  every few minutes (ETag), so a new version reaches
//                                  every site soon after an upgrade
//   GET /widget/v1/assets/{name}   what the frame page loads, named with a version
//                                  (?v=<content hash>) and so cached for a year
// Public: the edge's "public" context, no tenant.

#include <string>
#include <string_view>

#include "http/router.hpp"

namespace parley::widget {

// The versioned URL of frame asset `name` ("frame.js", "frame.css").
std::string asset_url(std::string_view name);

void add_asset_routes(http::router& routes);

}  // namespace parley::widget
