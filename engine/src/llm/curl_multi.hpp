#pragma once

// libcurl's multi interface driven by the engine's Asio event loop, the way curl's
// docs/examples/multi-event.c drives it with libevent: curl tells us which sockets
// to watch (CURLMOPT_SOCKETFUNCTION) and when to time out (CURLMOPT_TIMERFUNCTION);
// we wait for readiness with async_wait and call curl_multi_socket_action. A
// transfer costs a socket and a buffer, never a thread.
//
// Rules that keep this correct:
// - One multi handle per engine, touched only on its strand (curl handles are not
//   thread-safe). Every method must be called on strand().
// - Curl is never called from inside its own callbacks: those only record what to
//   watch; socket_action runs from our completion handlers.
// - Curl owns its sockets. We wrap the fd in a stream_descriptor to wait on it and
//   release() it before curl closes it, so Asio never closes curl's socket.
// - A completion handler that sees operation_aborted returns at once: the watch
//   it belonged to may be gone.
// - Asio's epoll reactor is edge-triggered, yet readiness that arrived while no
//   wait was queued is not lost: Asio starts a wait, when none of its kind is
//   queued, with EPOLL_CTL_MOD, and the kernel then reports the descriptor's
//   current readiness afresh. (We queue at most one wait of each kind.)

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <curl/curl.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>

namespace parley::llm {

namespace asio = boost::asio;

class curl_multi {
 public:
  using strand_type = asio::strand<asio::io_context::executor_type>;
  // Runs on the strand when a transfer ends by itself (not after remove()).
  using done_handler = std::function<void(CURLcode)>;

  explicit curl_multi(asio::io_context& io);
  ~curl_multi();
  curl_multi(const curl_multi&) = delete;
  curl_multi& operator=(const curl_multi&) = delete;

  const strand_type& strand() const noexcept { return strand_; }

  // Starts a configured easy handle. Throws std::runtime_error if curl refuses it.
  void add(CURL* easy, done_handler on_done);

  // Stops a transfer early (cancel, our own timeouts); its done handler is dropped
  // without being called. No effect if the transfer already ended.
  void remove(CURL* easy);

 private:
  struct watch {
    watch(const strand_type& strand, curl_socket_t fd, std::uint64_t id)
        : descriptor(strand, fd), id(id) {}
    asio::posix::stream_descriptor descriptor;
    std::uint64_t id;
    int wanted = 0;        // CURL_POLL_IN / OUT / INOUT
    bool reading = false;  // a read wait is queued
    bool writing = false;
  };

  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* self, void* socketp) noexcept;
  static int on_timer(CURLM* multi, long timeout_ms, void* self) noexcept;

  void set_watch(curl_socket_t fd, int what);
  void drop_watch(curl_socket_t fd);
  void arm(curl_socket_t fd, watch& w);
  void on_ready(curl_socket_t fd, std::uint64_t id, int select_flags,
                const boost::system::error_code& ec);
  void act(curl_socket_t fd, int select_flags);
  void finish_done_transfers();

  strand_type strand_;
  asio::steady_timer timer_;
  CURLM* multi_;
  std::uint64_t next_watch_id_ = 1;
  std::unordered_map<curl_socket_t, std::unique_ptr<watch>> watches_;
  std::unordered_map<CURL*, done_handler> transfers_;
};

}  // namespace parley::llm
