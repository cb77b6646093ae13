// Invariant 1: destroying a live Cursor allocates nothing. This file replaces the global
// operator new for the whole cursor_tests binary (that is how C++ replacement works), but the
// replacement only counts on a thread that has switched counting on, so every other test is
// unaffected apart from a thread_local check per allocation.

#include <cstdlib>
#include <new>
#include <optional>

#include <gtest/gtest.h>

#include "cursor/cursor.hpp"
#include "support/cursor_fakes.hpp"

#include "support/counting_operator_new.hpp"  // this binary's one replacement of operator new

namespace mongoslice {
namespace {

struct Wakes {
  int count = 0;
  static void wake(void* self) noexcept { ++static_cast<Wakes*>(self)->count; }
};

TEST(CursorDestructorAllocation, TheCounterSeesAllocations) {
  // Proves the test below can fail: an allocation in the counted region is seen.
  std::size_t n = allocations_during([] {
    auto record = KillRecord::make(1, Namespace{"db", "a-collection-name-too-long-for-sso"},
                                   HostAndPort{"h", 27017});
  });
  EXPECT_GE(n, 1u);
}

TEST(CursorDestructorAllocation, DestroyingALiveCursorAllocatesNothing) {
  auto wakes = std::make_shared<Wakes>();
  auto queue = std::make_shared<KillQueue>(&Wakes::wake, wakes);
  auto channel = std::make_shared<testing::FakeServerChannel>(
      77, "a-database-name.a-collection-name-longer-than-sso", 1000);
  std::optional<Cursor> cursor;
  cursor.emplace(channel->first_reply(50), CursorOptions{}, channel, queue,
                 HostAndPort{"a-host-name-longer-than-small-string.example", 27017});
  auto it = cursor->begin();
  ++it;  // mid-batch, as an abandoned loop leaves it

  std::size_t n = allocations_during([&] { cursor.reset(); });
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(wakes->count, 1);  // the wake path ran inside the counted region too
  KillList list = queue->drain();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list.begin()->cursor_id, 77);
}

// Not even a free: the batch buffer and the name strings move into the kill record and are
// freed by whoever drains it. The names are longer than the small-string buffer (which would
// otherwise hide a free of their heap buffers); the shared queue and channel stay alive.
TEST(CursorDestructorAllocation, DestroyingALiveCursorFreesNothing) {
  auto wakes = std::make_shared<Wakes>();
  auto queue = std::make_shared<KillQueue>(&Wakes::wake, wakes);
  auto channel =
      std::make_shared<testing::FakeServerChannel>(79, "inventory.warehouse_stock_levels", 1000);
  const HostAndPort server{"mongodb-0.mongodb.prod.svc.cluster.local", 27017};
  std::optional<Cursor> cursor;
  cursor.emplace(channel->first_reply(50), CursorOptions{}, channel, queue, server);
  auto it = cursor->begin();
  bson::Document batch_seen(*it);

  std::size_t n = deallocations_during([&] { cursor.reset(); });
  EXPECT_EQ(n, 0u);
  KillList list = queue->drain();
  ASSERT_EQ(list.size(), 1u);
  // The record carries the names the kill-cursors task needs.
  EXPECT_EQ(list.begin()->ns.to_string(), "inventory.warehouse_stock_levels");
  EXPECT_EQ(list.begin()->server, server);
  ASSERT_TRUE(list.begin()->retired_batch.has_value());
  // The retired batch is the cursor's own reply, holding the document it handed out.
  const bson::Document& retired = *list.begin()->retired_batch;
  EXPECT_NE(retired.to_json().find(batch_seen.to_json()), std::string::npos);
}

TEST(CursorDestructorAllocation, DestroyingIntoAClosedQueueAllocatesNothing) {
  auto queue = std::make_shared<KillQueue>();
  auto channel = std::make_shared<testing::FakeServerChannel>(78, "db.c", 1000);
  std::optional<Cursor> cursor;
  cursor.emplace(channel->first_reply(5), CursorOptions{}, channel, queue, HostAndPort{"h", 1});
  queue->close();
  std::size_t n = allocations_during([&] { cursor.reset(); });
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(queue->dropped_after_close(), 1u);
}

// The cursor keeps its names while its record is only allocated, and after it was handed over
// from a non-destructor path (a limit reached).
TEST(CursorDestructorAllocation, NamesStayReadableWhileLive) {
  auto queue = std::make_shared<KillQueue>();
  auto channel =
      std::make_shared<testing::FakeServerChannel>(80, "inventory.warehouse_stock_levels", 1000);
  const HostAndPort server{"mongodb-0.mongodb.prod.svc.cluster.local", 27017};
  Cursor cursor(channel->first_reply(5), CursorOptions{.limit = 2}, channel, queue, server);
  EXPECT_EQ(cursor.ns().to_string(), "inventory.warehouse_stock_levels");
  EXPECT_EQ(cursor.server(), server);
  int n = 0;
  for (bson::View doc : cursor) {
    (void)doc;
    ++n;
  }
  EXPECT_EQ(n, 2);
  EXPECT_EQ(cursor.ns().to_string(), "inventory.warehouse_stock_levels");
  KillList list = queue->drain();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list.begin()->ns.to_string(), "inventory.warehouse_stock_levels");
  EXPECT_EQ(list.begin()->server, server);
}

}  // namespace
}  // namespace mongoslice
