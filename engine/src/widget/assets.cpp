#include "widget/assets.hpp"

#include <array>
#include <map>

#include "base/crypto.hpp"
#include "http/api_error.hpp"
#include "widget/web_assets.hpp"

namespace parley::widget {

namespace {

struct asset {
  std::string_view content_type;
  std::string_view body;
  std::string version;  // of the content: its hash, the ETag and the ?v= of its URL
};

asset make_asset(std::string_view name, std::string_view content_type) {
  const auto body = web_asset(name);
  return {content_type, body, base::sha256_hex(body).substr(0, 16)};
}

// Only these files are public; frame.html is a template, served filled in.
const std::map<std::string, asset, std::less<>>& assets() {
  static const std::map<std::string, asset, std::less<>> all{
      {"widget.js", make_asset("widget.js", "text/javascript; charset=utf-8")},
      {"frame.js", make_asset("frame.js", "text/javascript; charset=utf-8")},
      {"frame.css", make_asset("frame.css", "text/css; charset=utf-8")},
  };
  return all;
}

const asset& find_asset(std::string_view name) {
  const auto it = assets().find(name);
  if (it == assets().end()) throw http::api_error::not_found("not_found", "Not found.");
  return it->second;
}

// If-None-Match lists ETags, perhaps weakened ("W/") by a compressing proxy: the
// content behind a weak tag of ours is still ours.
bool matches(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    const auto comma = if_none_match.find(',');
    auto tag = if_none_match.substr(0, comma);
    while (tag.starts_with(' ')) tag.remove_prefix(1);
    while (tag.ends_with(' ')) tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag || tag == "*") return true;
    if (comma == std::string_view::npos) break;
    if_none_match.remove_prefix(comma + 1);
  }
  return false;
}

http::response serve(const http::request& req, const asset& a, std::string cache_control) {
  const std::string etag = "\"" + a.version + "\"";
  http::response res;
  res.headers.push_back({"ETag", etag});
  res.headers.push_back({"Cache-Control", std::move(cache_control)});
  if (const auto asked = req.header("If-None-Match"); asked && matches(*asked, etag)) {
    res.status = 304;
    res.content_type.clear();
    return res;
  }
  res.content_type = a.content_type;
  res.body = a.body;
  return res;
}

// The loader's URL never changes (tenants paste it once): browsers keep it for five
// minutes, then ask again with its ETag and mostly get a 304.
constexpr std::string_view loader_cache = "public, max-age=300";
constexpr std::string_view versioned_cache = "public, max-age=31536000, immutable";

}  // namespace

std::string asset_url(std::string_view name) {
  return "/widget/v1/assets/" + std::string(name) + "?v=" + find_asset(name).version;
}

void add_asset_routes(http::router& routes) {
  routes.add("GET", "/widget.js", {edge::principal_kind::edge},
             [](http::request& req, http::responder& res) -> boost::asio::awaitable<void> {
               auto answer = serve(req, find_asset("widget.js"), std::string(loader_cache));
               co_await res.send(std::move(answer));
             });
  routes.add("GET", "/widget/v1/assets/{name}", {edge::principal_kind::edge},
             [](http::request& req, http::responder& res) -> boost::asio::awaitable<void> {
               const auto& name = req.params.at("name");
               if (name == "widget.js") throw http::api_error::not_found("not_found", "Not found.");
               const auto& a = find_asset(name);
               // Only the current version's URL is cached for good; another ?v= (a page
               // from before an upgrade) gets the current content, revalidated next time.
               const bool current =
                   req.query_param("v") == std::optional<std::string_view>(a.version);
               // Built before the co_await: g++ 12 mishandles temporaries of a ?: inside one.
               auto answer = serve(req, a, std::string(current ? versioned_cache : "no-cache"));
               co_await res.send(std::move(answer));
             });
}

}  // namespace parley::widget
