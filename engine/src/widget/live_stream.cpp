#include "widget/live_stream.hpp"

#include <boost/asio/post.hpp>

namespace parley::widget {

namespace asio = boost::asio;

live_stream::live_stream(asio::any_io_executor ex, std::string tenant_id, std::string session_id,
                         settings s)
    : ex_(std::move(ex)),
      tenant_id_(std::move(tenant_id)),
      session_id_(std::move(session_id)),
      settings_(s),
      grace_timer_(ex_) {}

void live_stream::start() { arm_grace(); }

void live_stream::push(std::string_view event, const nlohmann::json& data) {
  std::unique_lock lock(mutex_);
  const auto id = next_id_++;
  std::string text = "id: " + std::to_string(id) + "\nevent: ";
  text += event;
  text += "\ndata: " + data.dump() + "\n\n";  // dump() escapes newlines: one data line
  buffered_bytes_ += text.size();
  frames_.push_back({id, std::move(text)});
  // Bounded: the oldest frames go; a reconnect that needs them learns of the gap.
  while (buffered_bytes_ > settings_.buffer_bytes && frames_.size() > 1) {
    buffered_bytes_ -= frames_.front().text.size();
    frames_.pop_front();
  }
  wake_all(lock);
}

void live_stream::finish() {
  std::unique_lock lock(mutex_);
  finished_ = true;
  cancel_ = nullptr;
  wake_all(lock);
}

void live_stream::on_abandoned(std::function<void()> cancel) {
  {
    const std::lock_guard lock(mutex_);
    if (finished_) return;
    if (!abandoned_) {
      cancel_ = std::move(cancel);
      return;
    }
  }
  cancel();  // the grace period passed before there was a call to cancel
}

live_stream::batch live_stream::read_after(std::uint64_t last_seen) const {
  const std::lock_guard lock(mutex_);
  batch b;
  b.last_id = last_seen;
  b.finished = finished_;
  if (!frames_.empty() && frames_.front().id > last_seen + 1) b.gap = true;
  for (const auto& f : frames_) {
    if (f.id <= last_seen) continue;
    b.frames.push_back(f.text);
    b.last_id = f.id;
  }
  return b;
}

std::uint64_t live_stream::subscribe(std::function<void()> wake) {
  const std::lock_guard lock(mutex_);
  const auto id = next_subscription_++;
  subscribers_.emplace(id, std::move(wake));
  abandoned_ = false;
  return id;
}

void live_stream::unsubscribe(std::uint64_t subscription) {
  bool nobody_left = false;
  {
    const std::lock_guard lock(mutex_);
    subscribers_.erase(subscription);
    nobody_left = subscribers_.empty() && !finished_;
  }
  if (nobody_left) arm_grace();
}

void live_stream::wake_all(std::unique_lock<std::mutex>& lock) {
  std::vector<std::function<void()>> wakes;
  wakes.reserve(subscribers_.size());
  for (const auto& [id, wake] : subscribers_) wakes.push_back(wake);
  lock.unlock();
  for (const auto& wake : wakes) wake();
}

// The grace period restarts whenever the last subscriber leaves; when it passes with
// still nobody subscribed and the answer not finished, the generation is cancelled.
void live_stream::arm_grace() {
  asio::post(ex_, [self = shared_from_this()] {
    self->grace_timer_.expires_after(self->settings_.grace);
    self->grace_timer_.async_wait([weak = std::weak_ptr(self)](boost::system::error_code ec) {
      const auto s = weak.lock();
      if (ec || !s) return;  // re-armed, or the stream is gone
      std::function<void()> cancel;
      {
        const std::lock_guard lock(s->mutex_);
        if (!s->subscribers_.empty() || s->finished_) return;
        s->abandoned_ = true;
        cancel = std::move(s->cancel_);
        s->cancel_ = nullptr;
      }
      if (cancel) cancel();
    });
  });
}

}  // namespace parley::widget
