#include "widget/stream_hub.hpp"

#include <boost/asio/steady_timer.hpp>

namespace parley::widget {

namespace {

std::string session_key(const std::string& tenant_id, const std::string& session_id) {
  return tenant_id + "/" + session_id;
}

}  // namespace

std::shared_ptr<live_stream> stream_hub::open(const std::string& key,
                                              boost::asio::any_io_executor ex,
                                              const std::string& tenant_id,
                                              const std::string& session_id) {
  const std::lock_guard lock(mutex_);
  if (!generating_sessions_.insert(session_key(tenant_id, session_id)).second) return nullptr;
  auto stream =
      std::make_shared<live_stream>(std::move(ex), tenant_id, session_id, settings_.stream);
  streams_.emplace(key, stream);
  return stream;
}

std::shared_ptr<live_stream> stream_hub::find(const std::string& key) const {
  const std::lock_guard lock(mutex_);
  const auto it = streams_.find(key);
  return it == streams_.end() ? nullptr : it->second;
}

void stream_hub::finish(const std::string& key, const boost::asio::any_io_executor& ex) {
  {
    const std::lock_guard lock(mutex_);
    const auto it = streams_.find(key);
    if (it == streams_.end()) return;
    generating_sessions_.erase(session_key(it->second->tenant_id(), it->second->session_id()));
  }
  auto timer = std::make_shared<boost::asio::steady_timer>(ex, settings_.retain);
  // The hub outlives the io_context's run (serve destroys it after the loop threads
  // stop), so `this` is good for as long as the timer can fire.
  timer->async_wait([this, key, timer](boost::system::error_code) {
    const std::lock_guard lock(mutex_);
    streams_.erase(key);
  });
}

std::size_t stream_hub::size() const {
  const std::lock_guard lock(mutex_);
  return streams_.size();
}

}  // namespace parley::widget
