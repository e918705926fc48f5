// The engine benchmark's floor: a byte relay, the least any process between
// two sockets can do (read, then write what it read). Two in a chain, the
// load generator -> TCP -> relay -> Unix socket -> relay -> TCP -> mock, run
// the path nginx and the engine sit on with nothing but the forwarding: what
// that chain adds over going straight to the mock is the part of Parley's
// "added" that two processes cost on this machine (a wake-up and a copy
// each), which no proxy or engine in their place can take away.
//
//   relay (--listen-port P | --listen-unix PATH) (--to-port P | --to-unix PATH)
//
// Prints "listening <port|path>" once it accepts. One thread, one io_context
// (epoll), TCP_NODELAY on TCP sockets as nginx sets it; each connection to
// the relay opens one to where it relays, for as long as both stay open.

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>
#include <utility>

#include <array>
#include <boost/asio.hpp>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

namespace asio = boost::asio;
using asio::use_awaitable;
using stream = asio::generic::stream_protocol;

namespace {

// A TCP port on the loopback address or a Unix socket path.
struct place {
  std::optional<unsigned short> port;
  std::string path;

  stream::endpoint endpoint() const {
    if (port) return asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), *port);
    return asio::local::stream_protocol::endpoint(path);
  }
};

void no_delay(stream::socket& s, const place& where) {
  if (where.port) s.set_option(asio::ip::tcp::no_delay(true));
}

// One direction of a relayed connection, until its reader sees the end.
asio::awaitable<void> pump(std::shared_ptr<stream::socket> from, std::shared_ptr<stream::socket> to) {
  std::array<char, 16384> buf;
  boost::system::error_code ec;
  for (;;) {
    const std::size_t n =
        co_await from->async_read_some(asio::buffer(buf), asio::redirect_error(use_awaitable, ec));
    if (ec) break;
    co_await asio::async_write(*to, asio::buffer(buf.data(), n), asio::redirect_error(use_awaitable, ec));
    if (ec) break;
  }
  to->shutdown(stream::socket::shutdown_send, ec);
}

asio::awaitable<void> relay_one(std::shared_ptr<stream::socket> in, place to) {
  auto out = std::make_shared<stream::socket>(in->get_executor());
  boost::system::error_code ec;
  co_await out->async_connect(to.endpoint(), asio::redirect_error(use_awaitable, ec));
  if (ec) co_return;
  no_delay(*out, to);
  asio::co_spawn(in->get_executor(), pump(in, out), asio::detached);
  asio::co_spawn(in->get_executor(), pump(out, in), asio::detached);
}

asio::awaitable<void> accept_loop(asio::basic_socket_acceptor<stream>& acceptor, place from, place to) {
  for (;;) {
    auto in = std::make_shared<stream::socket>(co_await acceptor.async_accept(use_awaitable));
    no_delay(*in, from);
    asio::co_spawn(acceptor.get_executor(), relay_one(std::move(in), to), asio::detached);
  }
}

bool parse(int argc, char** argv, place& from, place& to) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i], value = argv[i + 1];
    if (name == "--listen-port") from.port = static_cast<unsigned short>(std::stoi(value));
    else if (name == "--listen-unix") from.path = value;
    else if (name == "--to-port") to.port = static_cast<unsigned short>(std::stoi(value));
    else if (name == "--to-unix") to.path = value;
    else return false;
  }
  return (from.port || !from.path.empty()) && (to.port || !to.path.empty());
}

}  // namespace

int main(int argc, char** argv) {
  place from, to;
  if (!parse(argc, argv, from, to)) return std::cerr << "usage: see the file's head\n", 2;
  asio::io_context io(1);
  // listens with the system's largest backlog, as the mock does
  asio::basic_socket_acceptor<stream> acceptor(io, from.endpoint());
  asio::co_spawn(io, accept_loop(acceptor, from, to), asio::detached);
  if (from.port) {
    const auto bound = acceptor.local_endpoint();
    const auto* in = reinterpret_cast<const sockaddr_in*>(bound.data());
    std::cout << "listening " << ntohs(in->sin_port) << std::endl;
  } else {
    std::cout << "listening " << from.path << std::endl;
  }
  io.run();
}
