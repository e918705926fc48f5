// parley ingest --tenant SLUG --agent CODE PATH... [--json]
//
// Loads files (folders recursively) into a tenant's knowledge base and enables them
// for an agent, through the same service as POST /v1/documents
// (knowledge/document_service.hpp): the type is decided by the content, identical
// content (SHA-256) is stored once per tenant, and a document's chunks are stored
// with its 'ready' status and the knowledge_version bump in one transaction, so a
// failure never leaves half a document behind. Processed here, before the command
// returns.

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/command.hpp"
#include "cli/embedding_loop.hpp"
#include "knowledge/document_service.hpp"
#include "store/agent_repo.hpp"
#include "store/db.hpp"

namespace parley::cli {

namespace {

namespace fs = std::filesystem;

constexpr std::uintmax_t max_file_bytes = 16 * 1024 * 1024;

struct source_file {
  fs::path path;
  std::string name;  // shown and stored as source_uri: relative, never the operator's absolute path
};

struct document_result {
  std::string name;
  std::string status;  // ingested | duplicate | failed
  std::string document_id;
  std::string title;
  std::size_t chunks = 0;
  std::string error;
};

bool hidden(const fs::path& p) {
  const auto name = p.filename().string();
  return !name.empty() && name.front() == '.';
}

// Files named on the command line and regular files under named folders (hidden
// entries skipped, directory symlinks not followed), in a stable order.
std::vector<source_file> collect(const std::vector<std::string>& args) {
  std::vector<source_file> out;
  for (const auto& arg : args) {
    const fs::path root(arg);
    std::error_code ec;
    const auto status = fs::status(root, ec);
    if (ec || !fs::exists(status))
      throw command_error("path_not_found", "no such file or folder: " + arg);
    if (fs::is_regular_file(status)) {
      out.push_back({root, root.filename().string()});
      continue;
    }
    if (!fs::is_directory(status))
      throw command_error("path_invalid", "not a file or folder: " + arg);
    // Names start at the folder itself: "handbook/leave.md".
    auto absolute = fs::absolute(root).lexically_normal();
    if (!absolute.has_filename()) absolute = absolute.parent_path();
    const auto folder = absolute.filename();
    std::vector<source_file> found;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it) {
      if (hidden(it->path())) {
        if (it->is_directory()) it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file()) continue;
      const auto relative = it->path().lexically_relative(root);
      found.push_back({it->path(), (folder / relative).generic_string()});
    }
    std::sort(found.begin(), found.end(),
              [](const source_file& a, const source_file& b) { return a.name < b.name; });
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

std::string read_file(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) {
    throw knowledge::upload_error(knowledge::upload_error::kind::invalid, "unreadable",
                                  "cannot read the file: " + ec.message());
  }
  if (size > max_file_bytes) {
    throw knowledge::upload_error(knowledge::upload_error::kind::too_large, "document_too_large",
                                  "the file is larger than 16 MiB");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw knowledge::upload_error(knowledge::upload_error::kind::invalid, "unreadable",
                                  "cannot open the file");
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

document_result ingest_file(knowledge::document_service& documents, const std::string& tenant_id,
                            const std::string& agent_code, const source_file& file) {
  document_result r{file.name, "failed", {}, {}, 0, {}};
  try {
    knowledge::upload u;
    u.bytes = read_file(file.path);
    u.file_name = file.path.filename().string();
    u.source_uri = file.name;
    u.agents = {agent_code};
    const auto [registered, processed] = documents.ingest_now(tenant_id, u);
    r.document_id = registered.document.id;
    r.title = registered.document.title;
    if (registered.duplicate) {
      r.status = "duplicate";
    } else if (processed.status == "ready") {
      r.status = "ingested";
      r.chunks = processed.chunks;
    } else {
      r.error = processed.error.empty() ? "the document was deleted meanwhile" : processed.error;
    }
  } catch (const knowledge::upload_error& e) {
    r.error = e.what();
  }
  return r;
}

std::string progress_line(std::size_t n, std::size_t total, const document_result& r) {
  if (r.status == "failed") return fmt::format("[{}/{}] {}  failed: {}", n, total, r.name, r.error);
  if (r.status == "duplicate") return fmt::format("[{}/{}] {}  already stored", n, total, r.name);
  return fmt::format("[{}/{}] {}  {} chunk{}", n, total, r.name, r.chunks,
                     r.chunks == 1 ? "" : "s");
}

}  // namespace

int ingest(const invocation& inv) {
  inv.opts.allow_only({"config", "json", "tenant", "agent"});
  const std::string slug = inv.opts.require("tenant");
  const std::string code = inv.opts.require("agent");
  if (inv.opts.positional().empty()) throw usage_error("ingest needs at least one file or folder");
  const auto files = collect(inv.opts.positional());
  if (files.empty()) throw command_error("no_files", "no files found in the given folders");

  const auto cfg = load_config(inv);
  store::database db(cfg.database.dsn, 1);
  const auto tenant = require_tenant(db, slug);
  const auto agent = db.with_tenant(
      tenant.id, [&](store::transaction& tx) { return store::find_agent(tx, code); });
  if (!agent)
    throw command_error("agent_not_found", "tenant '" + slug + "' has no agent '" + code + "'");

  knowledge::service_settings settings;
  settings.max_document_bytes = max_file_bytes;
  settings.processing_timeout = std::chrono::seconds(cfg.knowledge.processing_timeout_s);
  settings.chunks = {cfg.retrieval.chunk_tokens, cfg.retrieval.chunk_overlap};
  embedding_loop loop(cfg, inv.env);
  knowledge::document_service service(db, settings, loop.embedders());
  const bool show_progress = isatty(STDERR_FILENO) != 0;
  std::vector<document_result> results;
  for (std::size_t i = 0; i < files.size(); ++i) {
    results.push_back(ingest_file(service, tenant.id, code, files[i]));
    if (show_progress) std::cerr << progress_line(i + 1, files.size(), results.back()) << std::endl;
  }

  nlohmann::json documents = nlohmann::json::array();
  std::size_t ingested = 0, duplicates = 0, failed = 0, chunks = 0;
  std::string human;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    nlohmann::json d = {{"path", r.name}, {"status", r.status}};
    if (r.status == "failed") {
      d["error"] = r.error;
      ++failed;
    } else {
      d["document_id"] = r.document_id;
      d["title"] = r.title;
      d["chunks"] = r.chunks;
      ++(r.status == "ingested" ? ingested : duplicates);
      chunks += r.chunks;
    }
    documents.push_back(std::move(d));
    if (!show_progress) human += progress_line(i + 1, results.size(), r) + "\n";
  }
  human += fmt::format(
      "{} ingested ({} chunk{}), {} already stored, {} failed for agent {} of tenant {}", ingested,
      chunks, chunks == 1 ? "" : "s", duplicates, failed, code, slug);
  inv.out.result({{"tenant", slug},
                  {"agent", code},
                  {"documents", documents},
                  {"ingested", ingested},
                  {"duplicates", duplicates},
                  {"failed", failed},
                  {"chunks", chunks}},
                 human);
  return failed == 0 ? 0 : 1;
}

}  // namespace parley::cli
