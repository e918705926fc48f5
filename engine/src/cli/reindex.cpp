// parley reindex --tenant SLUG [--embedder NAME] [--batch N] [--json]
//
// Embeds a tenant's chunks with an embedder and switches the tenant to it
// (knowledge/reindex.hpp): without --embedder, the tenant's own, for chunks a former
// model embedded. Engines keep answering from the old vectors until the switch, one
// transaction at the end. Progress goes to a terminal's stderr.

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "cli/command.hpp"
#include "cli/embedding_loop.hpp"
#include "knowledge/reindex.hpp"
#include "store/db.hpp"

namespace parley::cli {

int reindex(const invocation& inv) {
  inv.opts.allow_only({"config", "json", "tenant", "embedder", "batch"});
  const std::string slug = inv.opts.require("tenant");
  const auto cfg = load_config(inv);
  store::database db(cfg.database.dsn, 1);
  const auto tenant = require_tenant(db, slug);
  embedding_loop loop(cfg, inv.env);
  const auto name =
      inv.opts.get("embedder")
          .value_or(tenant.knowledge.embedder.value_or(loop.embedders().default_name()));
  auto& embedder = loop.require(name);

  knowledge::reindex_request request{tenant.id, name};
  if (const auto batch = inv.opts.get_int("batch", 1, 4096)) {
    request.batch_size = static_cast<std::size_t>(*batch);
  }
  const bool show_progress = !inv.out.json && isatty(STDERR_FILENO) != 0;
  const auto progress = [show_progress](std::int64_t embedded, std::int64_t total) {
    if (show_progress)
      std::fprintf(stderr, "\rembedded %lld/%lld chunks", static_cast<long long>(embedded),
                   static_cast<long long>(total));
  };
  const auto started = std::chrono::steady_clock::now();
  knowledge::reindex_result done;
  try {
    done = knowledge::reindex(db, request, embedder, progress);
  } catch (const llm::embedding_error& e) {
    if (show_progress) std::fputc('\n', stderr);
    throw command_error("embedding_failed", fmt::format("{} ({}); the tenant still uses its "
                                                        "former vectors",
                                                        e.what(), e.detail()));
  }
  if (show_progress) std::fputc('\n', stderr);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  inv.out.result(
      {{"tenant", slug},
       {"embedder", name},
       {"model", embedder.model()},
       {"embedded", done.embedded},
       {"seconds", seconds}},
      fmt::format("tenant {} now uses embedder {} ({}): {} chunk{} embedded in {:.1f} s", slug,
                  name, embedder.model(), done.embedded, done.embedded == 1 ? "" : "s", seconds));
  return 0;
}

}  // namespace parley::cli
