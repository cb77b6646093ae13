// Cursor iteration over a fake server: batches, getMore's batchSize, limits, errors and kills.

#include "cursor/cursor.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "support/cursor_fakes.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using testing::cursor_reply;
using testing::FakeServerChannel;

constexpr std::int64_t kCursorId = 7'000'000'001;
const HostAndPort kServer{"db1.example", 27017};

struct Fixture {
  Fixture(std::int64_t total, std::int64_t default_batch = 4)
      : channel(
            std::make_shared<FakeServerChannel>(kCursorId, "shop.orders", total, default_batch)) {}
  Cursor open(std::int64_t first_batch, CursorOptions options = {}) {
    return Cursor(channel->first_reply(first_batch), options, channel, queue, kServer);
  }
  std::vector<std::optional<std::int32_t>> get_more_sizes() const {
    std::vector<std::optional<std::int32_t>> sizes;
    for (const auto& call : channel->get_more_calls) sizes.push_back(call.batch_size);
    return sizes;
  }
  std::vector<std::int64_t> queued_ids() {
    std::vector<std::int64_t> ids;
    for (const KillRecord& r : queue->drain()) ids.push_back(r.cursor_id);
    return ids;
  }
  std::shared_ptr<FakeServerChannel> channel;
  std::shared_ptr<KillQueue> queue = std::make_shared<KillQueue>();
};

std::vector<std::int64_t> read_all(Cursor& cursor) {
  std::vector<std::int64_t> ids;
  for (bson::View doc : cursor) ids.push_back(doc["_id"].as_int64());
  return ids;
}

std::vector<std::int64_t> iota(std::int64_t n) {
  std::vector<std::int64_t> v;
  for (std::int64_t i = 0; i < n; ++i) v.push_back(i);
  return v;
}

TEST(Cursor, IteratesEveryBatchWithGetMore) {
  Fixture f(10);
  Cursor cursor = f.open(3, {.batch_size = 3});
  EXPECT_EQ(cursor.id(), kCursorId);
  EXPECT_EQ(cursor.ns().db, "shop");
  EXPECT_EQ(cursor.ns().collection, "orders");
  EXPECT_EQ(read_all(cursor), iota(10));
  EXPECT_EQ(cursor.returned(), 10);
  EXPECT_EQ(cursor.id(), 0);  // exhausted on the server
  ASSERT_EQ(f.channel->get_more_calls.size(), 3u);
  for (const auto& call : f.channel->get_more_calls) {
    EXPECT_EQ(call.cursor_id, kCursorId);
    EXPECT_EQ(call.ns, (Namespace{"shop", "orders"}));
  }
  EXPECT_EQ(f.get_more_sizes(), (std::vector<std::optional<std::int32_t>>{3, 3, 3}));
}

TEST(Cursor, ExhaustedCursorIsNeverKilled) {
  Fixture f(10);
  {
    Cursor cursor = f.open(3);
    EXPECT_EQ(read_all(cursor).size(), 10u);
  }
  EXPECT_TRUE(f.queued_ids().empty());
  EXPECT_TRUE(f.channel->kill_calls.empty());
}

TEST(Cursor, FirstReplyWithIdZeroNeedsNoChannel) {
  Cursor cursor(cursor_reply(0, "a.b", "firstBatch", 5, 2), {}, nullptr, nullptr, kServer);
  EXPECT_EQ(read_all(cursor), (std::vector<std::int64_t>{5, 6}));
}

TEST(Cursor, BatchSizeZeroLeavesTheServerDefault) {
  Fixture f(10, /*default_batch=*/4);
  Cursor cursor = f.open(2, {.batch_size = 0});
  EXPECT_EQ(read_all(cursor), iota(10));
  EXPECT_EQ(f.get_more_sizes(),
            (std::vector<std::optional<std::int32_t>>{std::nullopt, std::nullopt}));
}

TEST(Cursor, BatchSizeOneAsksForOneDocumentEachTime) {
  Fixture f(4);
  Cursor cursor = f.open(1, {.batch_size = 1});
  EXPECT_EQ(read_all(cursor), iota(4));
  EXPECT_EQ(f.get_more_sizes(), (std::vector<std::optional<std::int32_t>>{1, 1, 1}));
}

TEST(Cursor, EmptyFirstBatchFetchesOnBegin) {
  Fixture f(3);
  Cursor cursor = f.open(0, {.batch_size = 2});
  EXPECT_TRUE(f.channel->get_more_calls.empty());  // nothing runs before iteration
  EXPECT_EQ(read_all(cursor), iota(3));
  EXPECT_EQ(f.get_more_sizes(), (std::vector<std::optional<std::int32_t>>{2, 2}));
}

TEST(Cursor, PositiveLimitCapsGetMoreAndKillsTheOpenServerCursor) {
  Fixture f(100);
  Cursor cursor = f.open(2, {.batch_size = 2, .limit = 5});
  EXPECT_EQ(read_all(cursor), iota(5));
  // Never asks beyond what the limit leaves: 2 + 2 + 1.
  EXPECT_EQ(f.get_more_sizes(), (std::vector<std::optional<std::int32_t>>{2, 1}));
  EXPECT_EQ(cursor.id(), 0);
  // The server still holds the cursor: it is handed to the kill queue once, at the limit.
  EXPECT_EQ(f.queued_ids(), std::vector<std::int64_t>{kCursorId});
}

TEST(Cursor, LimitWithDefaultBatchSizeAsksForTheRemainder) {
  Fixture f(100, /*default_batch=*/50);
  Cursor cursor = f.open(3, {.limit = 10});
  EXPECT_EQ(read_all(cursor), iota(10));
  EXPECT_EQ(f.get_more_sizes(), (std::vector<std::optional<std::int32_t>>{7}));
}

TEST(Cursor, LimitReachedWhenServerClosesIsNotKilled) {
  Fixture f(5);
  {
    Cursor cursor = f.open(2, {.batch_size = 2, .limit = 5});
    EXPECT_EQ(read_all(cursor), iota(5));
  }
  EXPECT_TRUE(f.queued_ids().empty());
}

TEST(Cursor, LimitBelowFirstBatchTruncates) {
  Fixture f(100);
  Cursor cursor = f.open(10, {.limit = 3});
  EXPECT_EQ(read_all(cursor), iota(3));
  EXPECT_TRUE(f.channel->get_more_calls.empty());
  EXPECT_EQ(f.queued_ids(), std::vector<std::int64_t>{kCursorId});
}

TEST(Cursor, NegativeLimitIsOneBatch) {
  Fixture f(100);
  Cursor cursor = f.open(4, {.limit = -3});
  // A server that left the cursor open despite singleBatch: it is killed at once.
  EXPECT_EQ(f.queued_ids(), std::vector<std::int64_t>{kCursorId});
  EXPECT_EQ(cursor.id(), 0);
  EXPECT_EQ(read_all(cursor), iota(3));
  EXPECT_TRUE(f.channel->get_more_calls.empty());
}

TEST(Cursor, NegativeLimitWithClosedCursorKillsNothing) {
  auto queue = std::make_shared<KillQueue>();
  Cursor cursor(cursor_reply(0, "a.b", "firstBatch", 0, 2), {.limit = -5}, nullptr, queue, kServer);
  EXPECT_EQ(read_all(cursor), iota(2));
  EXPECT_TRUE(queue->empty());
}

TEST(Cursor, DestroyingALiveCursorQueuesExactlyItsId) {
  Fixture f(100);
  {
    Cursor cursor = f.open(3);
    auto it = cursor.begin();
    EXPECT_EQ((*it)["_id"].as_int64(), 0);
  }
  KillList list = f.queue->drain();
  ASSERT_EQ(list.size(), 1u);
  const KillRecord& r = *list.begin();
  EXPECT_EQ(r.cursor_id, kCursorId);
  EXPECT_EQ(r.ns, (Namespace{"shop", "orders"}));
  EXPECT_EQ(r.server, kServer);
  EXPECT_TRUE(f.channel->kill_calls.empty());  // no I/O from the destructor
}

TEST(Cursor, CloseKillsSynchronouslyAndQueuesNothing) {
  Fixture f(100);
  {
    Cursor cursor = f.open(3);
    cursor.close();
    EXPECT_EQ(cursor.id(), 0);
    EXPECT_EQ(read_all(cursor).size(), 0u);
    ASSERT_EQ(f.channel->kill_calls.size(), 1u);
    EXPECT_EQ(f.channel->kill_calls[0].first, (Namespace{"shop", "orders"}));
    EXPECT_EQ(f.channel->kill_calls[0].second, kCursorId);
    cursor.close();  // a second close does nothing
    EXPECT_EQ(f.channel->kill_calls.size(), 1u);
  }
  EXPECT_TRUE(f.queued_ids().empty());
}

TEST(Cursor, CloseOfExhaustedCursorSendsNothing) {
  Fixture f(3);
  Cursor cursor = f.open(3);
  cursor.close();
  EXPECT_TRUE(f.channel->kill_calls.empty());
}

TEST(Cursor, FailedCloseThrowsButStillNeverQueues) {
  Fixture f(100);
  f.channel->fail_kill(std::make_exception_ptr(Error(errc::network_error, "reset")));
  {
    Cursor cursor = f.open(3);
    EXPECT_THROW(cursor.close(), Error);
    EXPECT_EQ(cursor.id(), 0);
  }
  EXPECT_TRUE(f.queued_ids().empty());
}

TEST(Cursor, MovePassesTheKillDutyOnce) {
  Fixture f(100);
  {
    Cursor a = f.open(3);
    Cursor b = std::move(a);
    EXPECT_EQ(a.id(), 0);  // NOLINT: moved-from state is specified
    EXPECT_EQ(b.id(), kCursorId);
    EXPECT_EQ(read_all(a).size(), 0u);
  }
  EXPECT_EQ(f.queued_ids(), std::vector<std::int64_t>{kCursorId});
}

TEST(Cursor, MoveAssignmentQueuesTheOverwrittenCursor) {
  Fixture f1(100), f2(100);
  auto other = std::make_shared<FakeServerChannel>(99, "shop.items", 100);
  Cursor a = f1.open(2);
  Cursor b(other->first_reply(2), {}, other, f1.queue, kServer);
  a = std::move(b);
  EXPECT_EQ(f1.queued_ids(), std::vector<std::int64_t>{kCursorId});
  EXPECT_EQ(a.id(), 99);
  EXPECT_EQ(a.ns().collection, "items");
}

TEST(Cursor, ViewsOutliveAMoveOfTheCursor) {
  Fixture f(100);
  Cursor a = f.open(3);
  bson::View first = *a.begin();
  Cursor b = std::move(a);
  EXPECT_EQ(first["_id"].as_int64(), 0);
  auto it = b.begin();
  ++it;
  EXPECT_EQ((*it)["_id"].as_int64(), 1);
}

TEST(Cursor, ServerErrorFromGetMoreSurfacesFromIteration) {
  Fixture f(100);
  f.channel->fail_next_get_more(bson::Document::from_json(
      R"({"ok": 0, "code": 13, "codeName": "Unauthorized", "errmsg": "not allowed"})"));
  Cursor cursor = f.open(2);
  auto it = cursor.begin();
  ++it;
  try {
    ++it;
    FAIL() << "getMore's error was not thrown";
  } catch (const ServerError& error) {
    EXPECT_EQ(error.server_code(), 13);
    EXPECT_EQ(error.code_name(), "Unauthorized");
    EXPECT_THAT(error.what(), ::testing::HasSubstr("not allowed"));
  }
  EXPECT_TRUE(it == cursor.end());
  EXPECT_EQ(cursor.id(), 0);
  // The server cursor may still be open: it goes to the kill queue, once.
  EXPECT_EQ(f.queued_ids(), std::vector<std::int64_t>{kCursorId});
}

TEST(Cursor, CursorNotFoundMeansNothingToKill) {
  Fixture f(100);
  f.channel->fail_next_get_more(bson::Document::from_json(
      R"({"ok": 0, "code": 43, "codeName": "CursorNotFound", "errmsg": "cursor id 1 not found"})"));
  {
    Cursor cursor = f.open(0);
    EXPECT_THROW(cursor.begin(), ServerError);
  }
  EXPECT_TRUE(f.queued_ids().empty());
}

TEST(Cursor, NetworkErrorFromGetMoreSurfacesAndQueuesTheKill) {
  Fixture f(100);
  f.channel->fail_next_get_more(
      std::make_exception_ptr(Error(errc::network_error, "db1.example:27017: reset")));
  Cursor cursor = f.open(1);
  auto it = cursor.begin();
  try {
    ++it;
    FAIL() << "the network error was not thrown";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), make_error_code(errc::network_error));
  }
  EXPECT_EQ(f.queued_ids(), std::vector<std::int64_t>{kCursorId});
}

TEST(Cursor, GetMoreReplyForAnotherCursorIsRejected) {
  Fixture f(100);
  f.channel->answer_with_id(12345);
  Cursor cursor = f.open(0);
  try {
    cursor.begin();
    FAIL() << "a reply for another cursor was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), make_error_code(errc::cursor_error));
  }
  EXPECT_EQ(f.queued_ids(), std::vector<std::int64_t>{kCursorId});
}

TEST(Cursor, MalformedFirstRepliesAreClearErrors) {
  auto expect_cursor_error = [](std::string_view json) {
    try {
      Cursor(bson::Document::from_json(json), {}, nullptr, std::make_shared<KillQueue>(), kServer);
      ADD_FAILURE() << "accepted " << json;
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), make_error_code(errc::cursor_error)) << json << ": " << error.what();
    }
  };
  expect_cursor_error(R"({"ok": 1})");
  expect_cursor_error(R"({"ok": 1, "cursor": 5})");
  expect_cursor_error(R"({"ok": 1, "cursor": {"ns": "a.b", "firstBatch": []}})");
  expect_cursor_error(R"({"ok": 1, "cursor": {"id": "x", "ns": "a.b", "firstBatch": []}})");
  expect_cursor_error(R"({"ok": 1, "cursor": {"id": 0, "ns": "a.b"}})");
  expect_cursor_error(R"({"ok": 1, "cursor": {"id": 0, "ns": "a.b", "firstBatch": {}}})");
  expect_cursor_error(R"({"ok": 1, "cursor": {"id": 0, "firstBatch": []}})");
  expect_cursor_error(R"({"ok": 1, "cursor": {"id": 0, "ns": "nodot", "firstBatch": []}})");
  expect_cursor_error(R"({"ok": 1, "cursor": {"id": 0, "ns": 3, "firstBatch": []}})");
}

TEST(Cursor, ErrorReplyThrowsServerError) {
  EXPECT_THROW(Cursor(bson::Document::from_json(R"({"ok": 0, "code": 2, "errmsg": "bad"})"), {},
                      nullptr, nullptr, kServer),
               ServerError);
}

TEST(Cursor, NonDocumentInBatchIsAnErrorNotACrash) {
  try {
    Cursor(bson::Document::from_json(
               R"({"ok": 1, "cursor": {"id": 0, "ns": "a.b", "firstBatch": [{}, 5]}})"),
           {}, nullptr, nullptr, kServer);
    FAIL() << "a batch with a number in it was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), make_error_code(errc::cursor_error));
  }
}

TEST(Cursor, NonDocumentInGetMoreBatchSurfacesAndQueuesTheKill) {
  Fixture f(100);
  f.channel->fail_next_get_more(bson::Document::from_json(
      R"({"ok": 1, "cursor": {"id": 7000000001, "ns": "shop.orders", "nextBatch": ["x"]}})"));
  Cursor cursor = f.open(0);
  EXPECT_THROW(cursor.begin(), Error);
  EXPECT_EQ(f.queued_ids(), std::vector<std::int64_t>{kCursorId});
}

TEST(Cursor, BadOptionsAndMissingCollaboratorsAreRejected) {
  Fixture f(100);
  EXPECT_THROW(Cursor(f.channel->first_reply(1), {.batch_size = -1}, f.channel, f.queue, kServer),
               Error);
  EXPECT_THROW(Cursor(f.channel->first_reply(1), {}, f.channel, nullptr, kServer), Error);
  EXPECT_THROW(Cursor(f.channel->first_reply(1), {}, nullptr, f.queue, kServer), Error);
}

TEST(Cursor, DefaultCursorIsEmpty) {
  Cursor cursor;
  EXPECT_EQ(cursor.id(), 0);
  EXPECT_TRUE(cursor.begin() == cursor.end());
  cursor.close();
}

}  // namespace
}  // namespace mongoslice
