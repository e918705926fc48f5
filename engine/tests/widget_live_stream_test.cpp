// One widget answer's stream (widget/live_stream.hpp): numbered frames, replay after
// any id, a bounded buffer, and cancellation once nobody has listened for the grace
// period.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "widget/live_stream.hpp"

namespace parley::widget {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<live_stream> make(boost::asio::io_context& io, live_stream::settings s = {}) {
  return std::make_shared<live_stream>(io.get_executor(), "t", "s", s);
}

TEST(LiveStream, FramesAreNumberedAndReplayedAfterAnyId) {
  boost::asio::io_context io;
  const auto stream = make(io);
  stream->push("token", {{"delta", "Hel"}});
  stream->push("token", {{"delta", "lo\n"}});
  stream->push("done", {{"message_id", "m"}});
  stream->finish();
  const auto all = stream->read_after(0);
  ASSERT_EQ(all.frames.size(), 3u);
  EXPECT_EQ(all.frames[0], "id: 1\nevent: token\ndata: {\"delta\":\"Hel\"}\n\n");
  EXPECT_EQ(all.frames[1], "id: 2\nevent: token\ndata: {\"delta\":\"lo\\n\"}\n\n");
  EXPECT_TRUE(all.finished);
  const auto rest = stream->read_after(2);
  ASSERT_EQ(rest.frames.size(), 1u);
  EXPECT_EQ(rest.last_id, 3u);
  EXPECT_TRUE(stream->read_after(3).frames.empty());
}

TEST(LiveStream, ABoundedBufferReportsTheGapToALateReader) {
  boost::asio::io_context io;
  const auto stream = make(io, {100, 10s});
  for (int i = 0; i < 10; ++i) stream->push("token", {{"delta", "0123456789"}});
  EXPECT_TRUE(stream->read_after(0).gap);
  EXPECT_FALSE(stream->read_after(9).gap);
  EXPECT_EQ(stream->read_after(9).frames.size(), 1u);
}

TEST(LiveStream, SubscribersAreWokenByEachFrameAndTheEnd) {
  boost::asio::io_context io;
  const auto stream = make(io);
  int wakes = 0;
  const auto sub = stream->subscribe([&] { ++wakes; });
  stream->push("token", {{"delta", "a"}});
  stream->finish();
  stream->unsubscribe(sub);
  stream->push("token", {{"delta", "b"}});
  EXPECT_EQ(wakes, 2);
}

TEST(LiveStream, NobodyListeningForTheGracePeriodCancelsTheAnswer) {
  boost::asio::io_context io;
  const auto stream = make(io, {1024, 0s});
  bool cancelled = false;
  stream->on_abandoned([&] { cancelled = true; });
  stream->start();
  io.run();
  EXPECT_TRUE(cancelled);
}

TEST(LiveStream, AListenerKeepsTheAnswerGoing) {
  boost::asio::io_context io;
  const auto stream = make(io, {1024, 0s});
  bool cancelled = false;
  stream->on_abandoned([&] { cancelled = true; });
  stream->start();
  stream->subscribe([] {});
  io.run();
  EXPECT_FALSE(cancelled);
}

TEST(LiveStream, ACallStartedAfterTheGracePeriodIsCancelledAtOnce) {
  boost::asio::io_context io;
  const auto stream = make(io, {1024, 0s});
  stream->start();
  io.run();
  bool cancelled = false;
  stream->on_abandoned([&] { cancelled = true; });
  EXPECT_TRUE(cancelled);
}

}  // namespace
}  // namespace parley::widget
