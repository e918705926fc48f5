#include "llm/curl_multi.hpp"

#include <boost/asio/post.hpp>

#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "obs/log.hpp"

namespace parley::llm {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("curl_global_init failed");
    }
  });
}

}  // namespace

curl_multi::curl_multi(asio::io_context& io)
    : strand_(asio::make_strand(io)), timer_(strand_), multi_(nullptr) {
  global_init();
  multi_ = curl_multi_init();
  if (multi_ == nullptr) throw std::runtime_error("curl_multi_init failed");
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &curl_multi::on_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &curl_multi::on_timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
}

curl_multi::~curl_multi() {
  // Called after the loop stopped: detach every transfer, then give the sockets
  // back to curl before curl_multi_cleanup closes them.
  for (auto& [easy, handler] : transfers_) curl_multi_remove_handle(multi_, easy);
  transfers_.clear();
  for (auto& [fd, w] : watches_) {
    boost::system::error_code ignored;
    w->descriptor.cancel(ignored);
    w->descriptor.release();
  }
  watches_.clear();
  curl_multi_cleanup(multi_);
}

void curl_multi::add(CURL* easy, done_handler on_done) {
  transfers_.emplace(easy, std::move(on_done));
  if (const auto rc = curl_multi_add_handle(multi_, easy); rc != CURLM_OK) {
    transfers_.erase(easy);
    throw std::runtime_error(std::string("curl_multi_add_handle: ") + curl_multi_strerror(rc));
  }
}

void curl_multi::remove(CURL* easy) {
  if (transfers_.erase(easy) == 0) return;
  curl_multi_remove_handle(multi_, easy);
}

int curl_multi::on_socket(CURL* /*easy*/, curl_socket_t fd, int what, void* self,
                          void* /*socketp*/) noexcept {
  try {
    auto& m = *static_cast<curl_multi*>(self);
    if (what == CURL_POLL_REMOVE) {
      m.drop_watch(fd);
    } else {
      m.set_watch(fd, what);
    }
    return 0;
  } catch (...) {
    return -1;  // curl fails the transfer; no exception crosses into C
  }
}

int curl_multi::on_timer(CURLM* /*multi*/, long timeout_ms, void* self) noexcept {
  try {
    auto& m = *static_cast<curl_multi*>(self);
    if (timeout_ms < 0) {
      m.timer_.cancel();
      return 0;
    }
    // Even a zero timeout goes through the loop: curl must not be re-entered here.
    m.timer_.expires_after(std::chrono::milliseconds(timeout_ms));
    m.timer_.async_wait([&m](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      int running = 0;
      curl_multi_socket_action(m.multi_, CURL_SOCKET_TIMEOUT, 0, &running);
      m.finish_done_transfers();
    });
    return 0;
  } catch (...) {
    return -1;
  }
}

void curl_multi::set_watch(curl_socket_t fd, int what) {
  auto it = watches_.find(fd);
  if (it == watches_.end()) {
    it = watches_.emplace(fd, std::make_unique<watch>(strand_, fd, next_watch_id_++)).first;
  }
  it->second->wanted = what;
  // Arming is posted: we are inside curl's callback, and a poll() hit would call curl.
  asio::post(strand_, [this, fd, id = it->second->id] {
    const auto w = watches_.find(fd);
    if (w != watches_.end() && w->second->id == id) arm(fd, *w->second);
  });
}

void curl_multi::drop_watch(curl_socket_t fd) {
  const auto it = watches_.find(fd);
  if (it == watches_.end()) return;
  boost::system::error_code ignored;
  it->second->descriptor.cancel(ignored);
  it->second->descriptor.release();  // curl closes the fd, not Asio
  watches_.erase(it);
}

void curl_multi::arm(curl_socket_t fd, watch& w) {
  const auto id = w.id;
  if ((w.wanted & CURL_POLL_IN) != 0 && !w.reading) {
    w.reading = true;
    w.descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                            [this, fd, id](const boost::system::error_code& ec) {
                              on_ready(fd, id, CURL_CSELECT_IN, ec);
                            });
  }
  if ((w.wanted & CURL_POLL_OUT) != 0 && !w.writing) {
    w.writing = true;
    w.descriptor.async_wait(asio::posix::descriptor_base::wait_write,
                            [this, fd, id](const boost::system::error_code& ec) {
                              on_ready(fd, id, CURL_CSELECT_OUT, ec);
                            });
  }
}

void curl_multi::on_ready(curl_socket_t fd, std::uint64_t id, int select_flags,
                          const boost::system::error_code& ec) {
  if (ec == asio::error::operation_aborted) return;
  const auto it = watches_.find(fd);
  if (it == watches_.end() || it->second->id != id) return;  // a stale wait
  (select_flags == CURL_CSELECT_IN ? it->second->reading : it->second->writing) = false;
  act(fd, ec ? (select_flags | CURL_CSELECT_ERR) : select_flags);
}

void curl_multi::act(curl_socket_t fd, int select_flags) {
  int running = 0;
  curl_multi_socket_action(multi_, fd, select_flags, &running);
  finish_done_transfers();
  // Curl may have dropped the socket (or a new one may reuse the number) meanwhile.
  const auto it = watches_.find(fd);
  if (it != watches_.end()) arm(fd, *it->second);
}

void curl_multi::finish_done_transfers() {
  std::vector<std::pair<CURL*, CURLcode>> done;
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
    if (msg->msg == CURLMSG_DONE) done.emplace_back(msg->easy_handle, msg->data.result);
  }
  for (const auto& [easy, code] : done) {
    const auto it = transfers_.find(easy);
    if (it == transfers_.end()) continue;
    auto handler = std::move(it->second);
    transfers_.erase(it);
    curl_multi_remove_handle(multi_, easy);
    try {
      handler(code);
    } catch (const std::exception& e) {
      obs::error("llm_transfer_handler_failed", {{"error", e.what()}});
    }
  }
}

}  // namespace parley::llm
