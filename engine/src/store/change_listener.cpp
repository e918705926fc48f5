#include "store/change_listener.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>

#include "obs/log.hpp"
#include "store/db.hpp"

namespace parley::store {
namespace {

using namespace std::chrono_literals;

struct pq_finish {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
using connection_ptr = std::unique_ptr<PGconn, pq_finish>;

std::string message_of(PGconn* c) {
  std::string msg = PQerrorMessage(c);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

connection_ptr connect_listening(const std::string& dsn, const std::string& channel) {
  // A listener that waits forever on a peer gone silent (no FIN over TCP) would
  // miss every change: TCP keepalives find such a peer within about 11 s. The
  // operator's DSN comes first; these follow it and so take precedence.
  const char* const keywords[] = {"dbname",           "keepalives",
                                  "keepalives_idle",  "keepalives_interval",
                                  "keepalives_count", nullptr};
  const char* const values[] = {dsn.c_str(), "1", "5", "2", "3", nullptr};
  connection_ptr conn(PQconnectdbParams(keywords, values, 1));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    throw db_error("cannot connect to PostgreSQL: " + (conn ? message_of(conn.get()) : "no memory"),
                   "");
  }
  const std::unique_ptr<PGresult, decltype(&PQclear)> res(
      PQexec(conn.get(), ("LISTEN " + channel).c_str()), &PQclear);
  if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
    throw db_error("LISTEN " + channel + " failed: " + message_of(conn.get()), "");
  }
  return conn;
}

}  // namespace

change_listener::change_listener(std::string dsn, std::string channel, handlers h)
    : dsn_(std::move(dsn)),
      channel_(std::move(channel)),
      handlers_(std::move(h)),
      wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (wake_fd_ < 0) throw std::runtime_error("eventfd failed");
  thread_ = std::jthread([this](const std::stop_token& stop) { run(stop); });
}

change_listener::~change_listener() {
  thread_.request_stop();
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof one);
  thread_.join();
  ::close(wake_fd_);
}

void change_listener::run(const std::stop_token& stop) {
  auto delay = 100ms;
  while (!stop.stop_requested()) {
    try {
      listen_once(stop);
      delay = 100ms;
    } catch (const std::exception& e) {
      handlers_.on_live(false);
      obs::warn("change_listener_lost",
                {{"channel", channel_}, {"error", e.what()}, {"retry_in_ms", delay.count()}});
      if (!pause(delay)) return;
      delay = std::min<std::chrono::milliseconds>(delay * 2, 5s);
    }
  }
}

void change_listener::listen_once(const std::stop_token& stop) {
  const auto conn = connect_listening(dsn_, channel_);
  handlers_.on_live(true);
  obs::info("change_listener_live", {{"channel", channel_}});
  pollfd fds[2] = {{PQsocket(conn.get()), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  while (!stop.stop_requested()) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      throw db_error("poll on the listening connection failed", "");
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    if (PQconsumeInput(conn.get()) == 0 || PQstatus(conn.get()) != CONNECTION_OK) {
      throw db_error("the listening connection broke: " + message_of(conn.get()), "");
    }
    while (PGnotify* n = PQnotifies(conn.get())) {
      const std::string payload = n->extra != nullptr ? n->extra : "";
      PQfreemem(n);
      handlers_.on_change(payload);
    }
  }
}

bool change_listener::pause(std::chrono::milliseconds delay) {
  pollfd wake{wake_fd_, POLLIN, 0};
  ::poll(&wake, 1, static_cast<int>(delay.count()));
  return !thread_.get_stop_token().stop_requested();
}

}  // namespace parley::store
