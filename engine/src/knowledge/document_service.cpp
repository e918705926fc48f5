#include "knowledge/document_service.hpp"

#include "base/offload.hpp"
#include "store/db.hpp"

namespace parley::knowledge {

namespace {

processing_job job_for(const std::string& tenant_id, const registration& r, upload u,
                       const inspected_upload& inspected) {
  return {tenant_id,           r.document.id,        std::move(u.bytes), std::move(u.declared_type),
          inspected.file_name, !u.title.has_value(), r.chunks,           r.embedder};
}

}  // namespace

document_service::document_service(store::database& db, service_settings s,
                                   llm::embedders& embedders, change_listener on_change)
    : db_(db),
      settings_(s),
      processor_(db, embedders),
      on_change_(std::move(on_change)),
      queue_(
          [this](const processing_job& job) {
            const auto done = processor_.process(job);
            if (done.status == "ready" && on_change_) on_change_(job.tenant_id);
          },
          s.max_pending_bytes) {}

asio::awaitable<registration> document_service::submit(std::string tenant_id, upload_reader read) {
  struct intake {
    upload u;
    inspected_upload inspected;
  };
  auto take_in = [this, read = std::move(read)] {
    intake in{read(), {}};
    in.inspected = inspect(in.u, settings_.max_document_bytes);
    return in;
  };
  auto in = co_await base::offload(intake_, std::move(take_in));
  if (!queue_.has_room(in.u.bytes.size())) {
    throw upload_error(upload_error::kind::busy, "ingest_busy",
                       "Too many documents are waiting to be processed; retry in a minute.");
  }
  auto enrol = [this, tenant_id, &in](store::transaction& tx) {
    return register_upload(tx, tenant_id, in.u, in.inspected, settings_.processing_timeout,
                           settings_.chunks);
  };
  auto r = co_await db_.async_tenant(tenant_id, std::move(enrol));
  if (!r.duplicate) queue_.push(job_for(tenant_id, r, std::move(in.u), in.inspected));
  co_return r;
}

std::pair<registration, processing_result> document_service::ingest_now(
    const std::string& tenant_id, const upload& u) {
  const auto inspected = inspect(u, settings_.max_document_bytes);
  auto r = db_.with_tenant(tenant_id, [&](store::transaction& tx) {
    return register_upload(tx, tenant_id, u, inspected, settings_.processing_timeout,
                           settings_.chunks);
  });
  if (r.duplicate) return {std::move(r), processing_result{"duplicate", 0, {}}};
  auto done = processor_.process(job_for(tenant_id, r, u, inspected));
  return {std::move(r), std::move(done)};
}

}  // namespace parley::knowledge
