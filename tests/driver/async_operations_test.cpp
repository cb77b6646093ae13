// The async engine against a scripted loopback server: each async_ twin sends the command its
// sync twin sends and gives the same result, with every kind of completion token; cancellation
// before the send, mid-send, mid-reply and during server selection; the client closed, and the
// io_context stopped or destroyed, with operations pending.

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "driver/mongo_client.hpp"
#include "support/expect_error.hpp"
#include "support/loopback_peer.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::LoopbackServer;
using testing::PeerStream;

// What the scripted server received and how it answers: hellos as a standalone, `find` with one
// document, writes with n: 1; `hang_on`, when set, names a command it reads and never answers
// (it waits until the client hangs up).
struct Recorder {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<bson::Document> commands;  // every non-hello command, as received
  std::string hang_on;
  std::atomic<int> hung{0};

  LoopbackServer::Script script() {
    return [this](PeerStream& s, int) {
      for (;;) {
        auto request = s.read_message();
        const std::string name(testing::command_name_of(request));
        if (name == "isMaster" || name == "hello") {
          s.write(testing::reply_to(request, testing::standard_hello_reply()));
          continue;
        }
        const bool hang = name == hang_on;
        {
          // Counted under the mutex, before the notify: wait_hung() then cannot check the count
          // between the notify and the increment and sleep through to its 10 s bound (it did,
          // under ThreadSanitizer's slower timing).
          std::lock_guard lock(mutex);
          commands.push_back(testing::body_of(request));
          if (hang) ++hung;
        }
        changed.notify_all();
        if (hang) {
          s.wait_for_close();
          return;
        }
        s.write(testing::reply_to(request, answer(name)));
      }
    };
  }

  static bson::Document answer(const std::string& name) {
    if (name == "aggregate" || name == "listIndexes" || name == "listCollections") {
      return bson::Document::from_json(
          R"({"cursor": {"id": {"$numberLong": "0"}, "ns": "app.c",
              "firstBatch": [{"n": 3, "name": "c", "type": "collection", "key": {"_id": 1}}]},
              "ok": 1})");
    }
    if (name == "distinct") return bson::Document::from_json(R"({"values": [1, 2], "ok": 1})");
    if (name == "count") return bson::Document::from_json(R"({"n": 4, "ok": 1})");
    if (name == "findAndModify") {
      return bson::Document::from_json(R"({"value": {"_id": 1, "x": "one"}, "ok": 1})");
    }
    if (name == "listDatabases") {
      return bson::Document::from_json(R"({"databases": [{"name": "app"}], "ok": 1})");
    }
    if (name == "dropIndexes") return bson::Document::from_json(R"({"nIndexesWas": 2, "ok": 1})");
    if (name == "find") {
      return bson::Document::from_json(
          R"({"cursor": {"id": {"$numberLong": "0"}, "ns": "app.c",
              "firstBatch": [{"_id": 1, "x": "one"}]}, "ok": 1})");
    }
    if (name == "insert" || name == "delete")
      return bson::Document::from_json(R"({"n": 1, "ok": 1})");
    if (name == "update") {
      return bson::Document::from_json(R"({"n": 1, "nModified": 1, "ok": 1})");
    }
    return bson::Document::from_json(R"({"ok": 1})");
  }

  std::vector<bson::Document> taken() {
    std::lock_guard lock(mutex);
    return std::exchange(commands, {});
  }
  bool wait_hung(int n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 10s, [&] { return hung.load() >= n; });
  }
};

std::string uri_of(const LoopbackServer& server, const std::string& extra = "") {
  return "mongodb://" + server.address().to_string() +
         "/?serverSelectionTimeoutMS=10000&connectTimeoutMS=10000" + extra;
}

// A command as the tests compare it: without the fields that differ between two sends of the
// same operation (lsid, $db's place, ...): here only the _id-free parts are compared as JSON.
std::string shape(const bson::Document& command) {
  return command.to_json();
}

template <typename Awaitable>
auto run(asio::io_context& io, Awaitable work) {
  auto future = asio::co_spawn(io, std::move(work), asio::use_future);
  io.run();
  io.restart();
  return future.get();
}

TEST(AsyncOperations, EachTwinSendsWhatItsSyncTwinSends) {
  Recorder recorder;
  LoopbackServer server(recorder.script());
  MongoClient client(uri_of(server));
  Collection coll = client["app"]["c"];
  const auto doc = bson::Document::from_json(R"({"_id": 7, "x": "seven"})");
  const auto filter = bson::Document::from_json(R"({"_id": 1})");
  const auto update = bson::Document::from_json(R"({"$set": {"x": "uno"}})");

  // Sync first.
  auto sync_insert = coll.insert_one(doc.view());
  auto sync_found = coll.find_one(filter.view());
  auto sync_update = coll.update_one(filter.view(), update.view());
  auto sync_delete = coll.delete_many(filter.view());
  auto sync_commands = recorder.taken();

  asio::io_context io;
  auto [async_insert, async_found, async_update, async_delete] =
      run(io,
          [&]() -> asio::awaitable<std::tuple<InsertOneResult, std::optional<bson::Document>,
                                              UpdateResult, DeleteResult>> {
            auto inserted = co_await coll.async_insert_one(doc.view(), asio::use_awaitable);
            auto found = co_await coll.async_find_one(filter.view(), asio::use_awaitable);
            auto updated =
                co_await coll.async_update_one(filter.view(), update.view(), asio::use_awaitable);
            auto deleted = co_await coll.async_delete_many(filter.view(), asio::use_awaitable);
            co_return std::tuple{std::move(inserted), std::move(found), updated, deleted};
          }());
  auto async_commands = recorder.taken();

  ASSERT_EQ(sync_commands.size(), 4u);
  ASSERT_EQ(async_commands.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(shape(async_commands[i]), shape(sync_commands[i]));
  EXPECT_EQ(async_insert.inserted_id.to_json(), sync_insert.inserted_id.to_json());
  ASSERT_TRUE(async_found && sync_found);
  EXPECT_EQ(async_found->to_json(), sync_found->to_json());
  EXPECT_EQ(async_update.matched_count, sync_update.matched_count);
  EXPECT_EQ(async_update.modified_count, sync_update.modified_count);
  EXPECT_EQ(async_delete.deleted_count, sync_delete.deleted_count);
}

// Runs each operation through its sync twin and its async twin (use_awaitable) and compares the
// commands the server received and the results (as JSON).
TEST(AsyncOperations, EveryOtherTwinSendsWhatItsSyncTwinSends) {
  Recorder recorder;
  LoopbackServer server(recorder.script());
  MongoClient client(uri_of(server));
  Collection coll = client["app"]["c"];
  Database db = client["app"];
  const auto filter = bson::Document::from_json(R"({"_id": 1})");
  const auto update = bson::Document::from_json(R"({"$set": {"x": "uno"}})");
  const auto replacement = bson::Document::from_json(R"({"x": "uno"})");
  const auto pipeline = bson::Document::from_json(R"({"0": {"$match": {}}})");
  const auto keys = bson::Document::from_json(R"({"x": 1})");
  const auto ping = bson::Document::from_json(R"({"ping": 1})");
  using Json = std::string;
  auto json_of_cursor_first = [](std::optional<bson::View> doc) {
    return doc ? bson::Document(*doc).to_json() : Json("none");
  };
  auto optional_json = [](const std::optional<bson::Document>& doc) {
    return doc ? doc->to_json() : Json("none");
  };
  struct Twin {
    std::string name;
    std::function<Json()> sync;
    std::function<asio::awaitable<Json>()> async;
  };
  std::vector<Twin> twins;
  twins.push_back(
      {"count_documents", [&] { return std::to_string(coll.count_documents(filter.view())); },
       [&]() -> asio::awaitable<Json> {
         auto n = co_await coll.async_count_documents(filter.view(), asio::use_awaitable);
         co_return std::to_string(n);
       }});
  twins.push_back({"estimated_document_count",
                   [&] { return std::to_string(coll.estimated_document_count()); },
                   [&]() -> asio::awaitable<Json> {
                     auto n = co_await coll.async_estimated_document_count(asio::use_awaitable);
                     co_return std::to_string(n);
                   }});
  twins.push_back({"distinct", [&] { return coll.distinct("x", filter.view()).to_json(); },
                   [&]() -> asio::awaitable<Json> {
                     auto d = co_await coll.async_distinct("x", filter.view(), asio::use_awaitable);
                     co_return d.to_json();
                   }});
  twins.push_back(
      {"find_one_and_update",
       [&] { return optional_json(coll.find_one_and_update(filter.view(), update.view())); },
       [&]() -> asio::awaitable<Json> {
         auto d = co_await coll.async_find_one_and_update(filter.view(), update.view(),
                                                          asio::use_awaitable);
         co_return optional_json(d);
       }});
  twins.push_back(
      {"find_one_and_replace",
       [&] { return optional_json(coll.find_one_and_replace(filter.view(), replacement.view())); },
       [&]() -> asio::awaitable<Json> {
         auto d = co_await coll.async_find_one_and_replace(filter.view(), replacement.view(),
                                                           asio::use_awaitable);
         co_return optional_json(d);
       }});
  twins.push_back({"find_one_and_delete",
                   [&] { return optional_json(coll.find_one_and_delete(filter.view())); },
                   [&]() -> asio::awaitable<Json> {
                     auto d = co_await coll.async_find_one_and_delete(filter.view(),
                                                                      asio::use_awaitable);
                     co_return optional_json(d);
                   }});
  twins.push_back({"aggregate",
                   [&] {
                     Cursor c = coll.aggregate(pipeline.view());
                     return json_of_cursor_first(c.next());
                   },
                   [&]() -> asio::awaitable<Json> {
                     Cursor c = co_await coll.async_aggregate(pipeline.view(), asio::use_awaitable);
                     auto first = co_await c.async_next(asio::use_awaitable);
                     co_return json_of_cursor_first(first);
                   }});
  twins.push_back({"create_index", [&] { return coll.create_index(keys.view()); },
                   [&]() -> asio::awaitable<Json> {
                     co_return co_await coll.async_create_index(keys.view(), asio::use_awaitable);
                   }});
  twins.push_back({"list_indexes",
                   [&] {
                     Cursor c = coll.list_indexes();
                     return json_of_cursor_first(c.next());
                   },
                   [&]() -> asio::awaitable<Json> {
                     Cursor c = co_await coll.async_list_indexes(asio::use_awaitable);
                     auto first = co_await c.async_next(asio::use_awaitable);
                     co_return json_of_cursor_first(first);
                   }});
  twins.push_back({"drop_index",
                   [&] {
                     coll.drop_index("x_1");
                     return Json("done");
                   },
                   [&]() -> asio::awaitable<Json> {
                     co_await coll.async_drop_index("x_1", asio::use_awaitable);
                     co_return Json("done");
                   }});
  twins.push_back({"rename", [&] { return coll.rename("d").name(); },
                   [&]() -> asio::awaitable<Json> {
                     Collection renamed = co_await coll.async_rename("d", asio::use_awaitable);
                     co_return renamed.name();
                   }});
  twins.push_back({"collection drop",
                   [&] {
                     coll.drop();
                     return Json("done");
                   },
                   [&]() -> asio::awaitable<Json> {
                     co_await coll.async_drop(asio::use_awaitable);
                     co_return Json("done");
                   }});
  twins.push_back(
      {"run_cursor_command",
       [&] {
         Cursor c =
             db.run_cursor_command(bson::Document::from_json(R"({"aggregate": "c", "pipeline": [],
                                                       "cursor": {}})")
                                       .view());
         return json_of_cursor_first(c.next());
       },
       [&]() -> asio::awaitable<Json> {
         const auto command =
             bson::Document::from_json(R"({"aggregate": "c", "pipeline": [], "cursor": {}})");
         Cursor c = co_await db.async_run_cursor_command(command.view(), asio::use_awaitable);
         auto first = co_await c.async_next(asio::use_awaitable);
         co_return json_of_cursor_first(first);
       }});
  twins.push_back({"create_collection", [&] { return db.create_collection("e").name(); },
                   [&]() -> asio::awaitable<Json> {
                     Collection made =
                         co_await db.async_create_collection("e", asio::use_awaitable);
                     co_return made.name();
                   }});
  twins.push_back({"list_collection_names", [&] { return db.list_collection_names().front(); },
                   [&]() -> asio::awaitable<Json> {
                     auto names = co_await db.async_list_collection_names(asio::use_awaitable);
                     co_return names.front();
                   }});
  twins.push_back({"database aggregate",
                   [&] {
                     Cursor c = db.aggregate(pipeline.view());
                     return json_of_cursor_first(c.next());
                   },
                   [&]() -> asio::awaitable<Json> {
                     Cursor c = co_await db.async_aggregate(pipeline.view(), asio::use_awaitable);
                     auto first = co_await c.async_next(asio::use_awaitable);
                     co_return json_of_cursor_first(first);
                   }});
  twins.push_back({"run_command", [&] { return db.run_command(ping.view()).to_json(); },
                   [&]() -> asio::awaitable<Json> {
                     auto reply = co_await db.async_run_command(ping.view(), asio::use_awaitable);
                     co_return reply.to_json();
                   }});
  twins.push_back({"list_database_names", [&] { return client.list_database_names().front(); },
                   [&]() -> asio::awaitable<Json> {
                     auto names = co_await client.async_list_database_names(asio::use_awaitable);
                     co_return names.front();
                   }});
  twins.push_back({"bulk_write",
                   [&] {
                     std::vector<WriteModel> models;
                     models.push_back(DeleteOneModel{bson::Document(filter.view())});
                     return std::to_string(coll.bulk_write(models).deleted_count);
                   },
                   [&]() -> asio::awaitable<Json> {
                     std::vector<WriteModel> models;
                     models.push_back(DeleteOneModel{bson::Document(filter.view())});
                     auto r =
                         co_await coll.async_bulk_write(std::move(models), asio::use_awaitable);
                     co_return std::to_string(r.deleted_count);
                   }});

  asio::io_context io;
  for (const Twin& twin : twins) {
    SCOPED_TRACE(twin.name);
    recorder.taken();
    const Json sync_result = twin.sync();
    const auto sync_commands = recorder.taken();
    const Json async_result = run(io, twin.async());
    const auto async_commands = recorder.taken();
    EXPECT_EQ(async_result, sync_result);
    ASSERT_EQ(async_commands.size(), sync_commands.size());
    ASSERT_FALSE(sync_commands.empty());
    for (std::size_t i = 0; i < sync_commands.size(); ++i) {
      EXPECT_EQ(shape(async_commands[i]), shape(sync_commands[i]));
    }
  }
}

TEST(AsyncOperations, AsyncCursorsIterateOnlyAsynchronouslyAndStillPushTheirKill) {
  // A cursor of an async_ operation refuses range iteration; destroyed while live, it pushes
  // its kill record (the kill-cursors executor then sends killCursors, seen by the server).
  std::mutex mutex;
  std::vector<bson::Document> kills;
  std::condition_variable killed;
  LoopbackServer server([&](PeerStream& s, int) {
    for (;;) {
      auto request = s.read_message();
      const auto name = testing::command_name_of(request);
      if (name == "isMaster" || name == "hello") {
        s.write(testing::reply_to(request, testing::standard_hello_reply()));
      } else if (name == "find") {
        s.write(testing::reply_to(request, bson::Document::from_json(
                                               R"({"cursor": {"id": {"$numberLong": "77"},
                                                   "ns": "app.c", "firstBatch": [{"_id": 1}]},
                                                   "ok": 1})")));
      } else if (name == "getMore") {
        s.write(testing::reply_to(request, bson::Document::from_json(
                                               R"({"cursor": {"id": {"$numberLong": "77"},
                                                   "ns": "app.c", "nextBatch": [{"_id": 2}]},
                                                   "ok": 1})")));
      } else {
        if (name == "killCursors") {
          std::lock_guard lock(mutex);
          kills.push_back(testing::body_of(request));
          killed.notify_all();
        }
        s.write(testing::reply_to(request, bson::Document::from_json(R"({"ok": 1})")));
      }
    }
  });
  MongoClient client(uri_of(server));
  asio::io_context io;
  auto ids = run(io, [&]() -> asio::awaitable<std::vector<std::int64_t>> {
    FindOptions options;
    options.batch_size = 1;
    Cursor cursor =
        co_await client["app"]["c"].async_find(bson::View(), options, asio::use_awaitable);
    EXPECT_THROW(cursor.begin(), Error);
    std::vector<std::int64_t> seen;
    for (int i = 0; i < 2; ++i) {  // the first batch, then one getMore
      auto doc = co_await cursor.async_next(asio::use_awaitable);
      if (!doc) break;
      seen.push_back((*doc)["_id"].as_int64());
    }
    EXPECT_EQ(cursor.id(), 77);
    co_return seen;  // the live cursor is destroyed here
  }());
  EXPECT_EQ(ids, (std::vector<std::int64_t>{1, 2}));
  std::unique_lock lock(mutex);
  ASSERT_TRUE(killed.wait_for(lock, 10s, [&] { return !kills.empty(); }));
  EXPECT_EQ(kills[0]["cursors"].get_array().to_json(),
            bson::Document::from_json(R"({"0": {"$numberLong": "77"}})").to_json());
}

// A client whose async operations run on `io` when their token brings no executor.
MongoClient client_on(asio::io_context& io, const std::string& uri) {
  ClientOptions options;
  options.executor = io.get_executor();
  return MongoClient(uri, std::move(options));
}

std::error_code std_code(const boost::system::error_code& ec) {
  return std::error_code(ec);
}

TEST(AsyncOperations, EveryTokenKindCompletes) {
  Recorder recorder;
  LoopbackServer server(recorder.script());
  asio::io_context io;
  MongoClient client = client_on(io, uri_of(server));
  Collection coll = client["app"]["c"];
  const auto filter = bson::Document::from_json(R"({"_id": 1})");

  // A plain callback: runs on the client's executor (the io_context's thread, here this one).
  bool called = false;
  coll.async_find_one(filter.view(),
                      [&](boost::system::error_code ec, std::optional<bson::Document> found) {
                        called = true;
                        EXPECT_FALSE(ec) << ec.message();
                        ASSERT_TRUE(found);
                        EXPECT_EQ((*found)["x"].get_string(), "one");
                      });
  io.run();
  io.restart();
  EXPECT_TRUE(called);

  // deferred: nothing happens until it is invoked with a token.
  auto later = coll.async_delete_one(filter.view(), asio::deferred);
  EXPECT_TRUE(recorder.taken().size() == 1u);  // only the find above
  std::optional<DeleteResult> deleted;
  std::move(later)([&](boost::system::error_code ec, DeleteResult r) {
    EXPECT_FALSE(ec) << ec.message();
    deleted = r;
  });
  io.run();
  io.restart();
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->deleted_count, 1);

  // use_future, the io_context run by another thread.
  auto work = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  auto future = client["app"].async_run_command(bson::Document::from_json(R"({"ping": 1})").view(),
                                                asio::use_future);
  EXPECT_EQ(future.get()["ok"].as_int64(), 1);
  auto dropped = client["app"].async_drop(asio::use_future);
  EXPECT_NO_THROW(dropped.get());
  work.reset();
  runner.join();
}

TEST(AsyncOperations, NoExecutorIsAClearError) {
  Recorder recorder;
  LoopbackServer server(recorder.script());
  MongoClient client(uri_of(server));  // no ClientOptions::executor
  auto error = testing::expect_error([&] {
    client["app"]["c"].async_find_one(
        bson::View(), [](boost::system::error_code, std::optional<bson::Document>) {});
  });
  EXPECT_EQ(error.code(), errc::invalid_argument);
  EXPECT_NE(std::string(error.what()).find("executor"), std::string::npos) << error.what();
}

TEST(AsyncOperations, ServerErrorsThrowTheSyncErrorWithUseAwaitableAndGiveItsCodeToCallbacks) {
  LoopbackServer server([](PeerStream& s, int) {
    for (;;) {
      auto request = s.read_message();
      const auto name = testing::command_name_of(request);
      if (name == "isMaster" || name == "hello") {
        s.write(testing::reply_to(request, testing::standard_hello_reply()));
      } else {
        s.write(testing::reply_to(request, bson::Document::from_json(
                                               R"({"ok": 0, "code": 13, "codeName": "Unauthorized",
                                                   "errmsg": "not authorized on app"})")));
      }
    }
  });
  asio::io_context io;
  MongoClient client = client_on(io, uri_of(server));
  const auto ping = bson::Document::from_json(R"({"ping": 1})");
  std::string sync_text;
  try {
    client["app"].run_command(ping.view());
  } catch (const ServerError& e) {
    sync_text = e.what();
  }
  ASSERT_FALSE(sync_text.empty());

  std::string async_text;
  std::int32_t async_code = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        try {
          co_await client["app"].async_run_command(ping.view(), asio::use_awaitable);
        } catch (const ServerError& e) {  // the very type the sync call throws
          async_text = e.what();
          async_code = e.server_code();
        }
      },
      asio::detached);
  io.run();
  io.restart();
  EXPECT_EQ(async_text, sync_text);
  EXPECT_EQ(async_code, 13);

  boost::system::error_code callback_ec;
  client["app"].async_run_command(
      ping.view(), [&](boost::system::error_code ec, bson::Document) { callback_ec = ec; });
  io.run();
  EXPECT_EQ(std_code(callback_ec), std::error_code(13, server_category()));
}

// Runs `start(slot)` on `io`, emits a terminal cancellation once `ready()` says so (polled on
// the io_context's thread), and returns the error the operation completed with.
template <typename Start, typename Ready>
boost::system::error_code cancel_when(asio::io_context& io, Start start, Ready ready) {
  asio::cancellation_signal signal;
  std::optional<boost::system::error_code> result;
  start(signal.slot(), [&](boost::system::error_code ec) { result = ec; });
  asio::steady_timer poll(io);
  std::function<void()> check = [&] {
    if (result) return;
    if (ready()) {
      signal.emit(asio::cancellation_type::terminal);
      return;
    }
    poll.expires_after(5ms);
    poll.async_wait([&](boost::system::error_code) { check(); });
  };
  asio::post(io, check);
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!result && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
  poll.cancel();
  io.run_for(10ms);
  io.restart();
  EXPECT_TRUE(result) << "the cancelled operation never completed";
  return result.value_or(boost::system::error_code{});
}

TEST(AsyncOperations, CancelledBeforeTheSendSendsNothing) {
  Recorder recorder;
  LoopbackServer server(recorder.script());
  asio::io_context io;
  MongoClient client = client_on(io, uri_of(server));
  Collection coll = client["app"]["c"];
  auto ec = cancel_when(
      io,
      [&](asio::cancellation_slot slot, auto done) {
        coll.async_find_one(bson::View(),
                            asio::bind_cancellation_slot(
                                slot, [done](boost::system::error_code ec,
                                             std::optional<bson::Document>) { done(ec); }));
      },
      [] { return true; });  // at once: before selection has even been tried
  EXPECT_EQ(ec, asio::error::operation_aborted) << ec.message();
  // Nothing reached the server; the client still works.
  EXPECT_TRUE(recorder.taken().empty());
  auto found = run(io, coll.async_find_one(bson::View(), asio::use_awaitable));
  EXPECT_TRUE(found);
}

TEST(AsyncOperations, CancelledMidReplyClosesTheConnection) {
  Recorder recorder;
  recorder.hang_on = "find";
  LoopbackServer server(recorder.script());
  asio::io_context io;
  MongoClient client = client_on(io, uri_of(server));
  Collection coll = client["app"]["c"];
  auto ec = cancel_when(
      io,
      [&](asio::cancellation_slot slot, auto done) {
        coll.async_find_one(bson::View(),
                            asio::bind_cancellation_slot(
                                slot, [done](boost::system::error_code ec,
                                             std::optional<bson::Document>) { done(ec); }));
      },
      [&] { return recorder.hung.load() == 1; });  // the find is sent, its reply never comes
  EXPECT_EQ(ec, asio::error::operation_aborted) << ec.message();
  // The connection that was mid-reply is closed, not pooled: the server sees it hang up (its
  // script ends), and the next operation opens another one.
  const int before = server.connections();
  EXPECT_TRUE(server.wait_ended(1)) << "the cancelled operation's connection stayed open";
  recorder.hang_on.clear();
  auto ok = run(io, client["app"].async_run_command(
                        bson::Document::from_json(R"({"ping": 1})").view(), asio::use_awaitable));
  EXPECT_EQ(ok["ok"].as_int64(), 1);
  EXPECT_GT(server.connections(), before);
}

TEST(AsyncOperations, CancelledMidSendClosesTheConnection) {
  // The server answers the handshakes, then stops reading the operation's connection: a 15 MB
  // insert fills the socket buffers and its write waits, mid-message, when it is cancelled.
  std::atomic<bool> release{false};
  std::atomic<int> stalled{0};
  LoopbackServer server([&](PeerStream& s, int) {
    auto hello = s.read_message();
    s.write(testing::reply_to(hello, testing::standard_hello_reply()));
    for (;;) {
      auto request = s.read_message();
      const auto name = testing::command_name_of(request);
      if (name == "isMaster" || name == "hello") {
        s.write(testing::reply_to(request, testing::standard_hello_reply()));
        continue;
      }
      s.write(testing::reply_to(request, bson::Document::from_json(R"({"ok": 1})")));
      break;  // the first command (the ping below) answered; then no more reading
    }
    ++stalled;
    const auto until = std::chrono::steady_clock::now() + 15s;
    while (!release && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(5ms);
  });
  asio::io_context io;
  MongoClient client = client_on(io, uri_of(server, "&maxPoolSize=1"));
  // One connection (maxPoolSize=1), made and answered once, so the insert uses it.
  run(io, client["app"].async_run_command(bson::Document::from_json(R"({"ping": 1})").view(),
                                          asio::use_awaitable));
  std::string big(15 * 1024 * 1024, 'x');
  const auto doc = bson::Builder{}.append("_id", 1).append("big", big).build();
  const auto started = std::chrono::steady_clock::now();
  auto ec = cancel_when(
      io,
      [&](asio::cancellation_slot slot, auto done) {
        client["app"]["c"].async_insert_one(
            doc.view(), asio::bind_cancellation_slot(slot, [done](boost::system::error_code ec,
                                                                  InsertOneResult) { done(ec); }));
      },
      [&] { return std::chrono::steady_clock::now() - started > 300ms; });
  release = true;
  EXPECT_EQ(ec, asio::error::operation_aborted) << ec.message();
  // The half-sent connection was closed: the pool (of one) makes a new one for the next call.
  EXPECT_TRUE(server.wait_ended(1));
  const int before = server.connections();
  run(io, client["app"].async_run_command(bson::Document::from_json(R"({"ping": 1})").view(),
                                          asio::use_awaitable));
  EXPECT_GT(server.connections(), before);
}

TEST(AsyncOperations, CancelledDuringServerSelection) {
  // Nothing listens on the port (a listener bound and closed at once), so selection waits.
  std::uint16_t port = 0;
  {
    LoopbackServer dead([](PeerStream&, int) {});
    port = dead.address().port;
  }
  asio::io_context io;
  MongoClient client = client_on(
      io, "mongodb://127.0.0.1:" + std::to_string(port) + "/?serverSelectionTimeoutMS=30000");
  const auto started = std::chrono::steady_clock::now();
  auto ec = cancel_when(
      io,
      [&](asio::cancellation_slot slot, auto done) {
        client["app"]["c"].async_find_one(
            bson::View(), asio::bind_cancellation_slot(
                              slot, [done](boost::system::error_code ec,
                                           std::optional<bson::Document>) { done(ec); }));
      },
      [&] { return std::chrono::steady_clock::now() - started > 100ms; });
  EXPECT_EQ(ec, asio::error::operation_aborted) << ec.message();
}

TEST(AsyncOperations, ClosingTheClientCompletesPendingOperationsWithClientClosed) {
  Recorder recorder;
  recorder.hang_on = "find";
  LoopbackServer server(recorder.script());
  std::uint16_t dead_port = 0;
  {
    LoopbackServer dead([](PeerStream&, int) {});
    dead_port = dead.address().port;
  }
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  std::optional<MongoClient> client(client_on(io, uri_of(server)));
  std::optional<MongoClient> unreachable(client_on(
      io, "mongodb://127.0.0.1:" + std::to_string(dead_port) + "/?serverSelectionTimeoutMS=30000"));

  std::mutex mutex;
  std::vector<boost::system::error_code> results;
  auto record = [&](boost::system::error_code ec, std::optional<bson::Document>) {
    std::lock_guard lock(mutex);
    results.push_back(ec);
  };
  for (int i = 0; i < 3; ++i) (*client)["app"]["c"].async_find_one(bson::View(), record);
  (*unreachable)["app"]["c"].async_find_one(bson::View(), record);  // waits in selection
  ASSERT_TRUE(recorder.wait_hung(3));  // three finds on three connections, never answered
  client.reset();                      // destroying the client closes it
  unreachable.reset();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    {
      std::lock_guard lock(mutex);
      if (results.size() == 4 || std::chrono::steady_clock::now() > deadline) break;
    }
    std::this_thread::sleep_for(5ms);
  }
  work.reset();
  runner.join();
  ASSERT_EQ(results.size(), 4u);
  for (const auto& ec : results) {
    EXPECT_EQ(std_code(ec), errc::client_closed) << ec.message();
  }
}

TEST(AsyncOperations, StoppingAndDestroyingTheIoContextWithOperationsPendingLeaksNothing) {
  Recorder recorder;
  recorder.hang_on = "find";
  LoopbackServer server(recorder.script());
  MongoClient client(uri_of(server));
  bool completed = false;
  {
    asio::io_context io;
    // One operation completes first, so that its connection is parked idle in the pool, on this
    // io_context: it must be freed when the io_context goes, before the client.
    run(io, client["app"].async_run_command(bson::Document::from_json(R"({"ping": 1})").view(),
                                            asio::use_awaitable));
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          co_await client["app"]["c"].async_find_one(bson::View(), asio::use_awaitable);
          completed = true;
        },
        asio::detached);
    std::thread runner([&] { io.run(); });
    ASSERT_TRUE(recorder.wait_hung(1));
    io.stop();
    runner.join();
  }  // the io_context is destroyed with the find pending: its frames are freed (ASan: no leak)
  EXPECT_FALSE(completed);
  // The client goes on with another io_context.
  recorder.hang_on.clear();
  asio::io_context other;
  auto found = run(other, client["app"]["c"].async_find_one(bson::View(), asio::use_awaitable));
  EXPECT_TRUE(found);
}

// The same with an operation queued for the pool's only connection (maxPoolSize=1) when the
// io_context goes: its checkout (an Asio operation waiting on its queue entry's timer, no
// coroutine) is destroyed with the context, leaves the pool's queue and frees its entry (ASan:
// no leak), and the slot the hung find held is free again: the next operation gets it.
TEST(AsyncOperations, DestroyingTheIoContextWithACheckoutQueuedFreesItsPlaceInThePool) {
  Recorder recorder;
  recorder.hang_on = "find";
  LoopbackServer server(recorder.script());
  MongoClient client("mongodb://" + server.address().to_string() +
                     "/?maxPoolSize=1&serverSelectionTimeoutMS=5000");
  int completed = 0;
  {
    asio::io_context io;
    for (int i = 0; i < 2; ++i) {
      asio::co_spawn(
          io,
          [&]() -> asio::awaitable<void> {
            co_await client["app"]["c"].async_find_one(bson::View(), asio::use_awaitable);
            ++completed;
          },
          asio::detached);
    }
    std::thread runner([&] { io.run(); });
    ASSERT_TRUE(recorder.wait_hung(1));
    std::this_thread::sleep_for(50ms);  // the second find is queued by now
    io.stop();
    runner.join();
  }
  EXPECT_EQ(completed, 0);
  EXPECT_EQ(recorder.taken().size(), 1u) << "only the first find reached the server";
  recorder.hang_on.clear();
  asio::io_context other;
  auto found = run(other, client["app"]["c"].async_find_one(bson::View(), asio::use_awaitable));
  EXPECT_TRUE(found);
}

TEST(AsyncOperations, AThousandConcurrentFindOnesFromOneThread) {
  Recorder recorder;
  LoopbackServer server(recorder.script());
  asio::io_context io;
  MongoClient client = client_on(io, uri_of(server, "&maxPoolSize=20"));
  Collection coll = client["app"]["c"];
  int found = 0, failed = 0;
  for (int i = 0; i < 1000; ++i) {
    coll.async_find_one(bson::View(),
                        [&](boost::system::error_code ec, std::optional<bson::Document> doc) {
                          if (!ec && doc) {
                            ++found;
                          } else {
                            ++failed;
                          }
                        });
  }
  io.run();
  EXPECT_EQ(found, 1000);
  EXPECT_EQ(failed, 0);
  // At most maxPoolSize connections for operations (plus the monitor's).
  EXPECT_LE(server.connections(), 21);
}

// CMAP's maxConnecting (2) in the async pool: a burst of operations on a cold pool opens its
// connections at most two at a time (the others wait for one of those, or for a connection to
// come back), so the burst never holds a handshake per operation. The server holds each
// handshake 20 ms so that establishments overlap whenever the pool lets them.
TEST(AsyncOperations, AColdPoolEstablishesAtMostTwoConnectionsAtATime) {
  std::atomic<int> handshaking{0}, most{0};
  LoopbackServer server([&](PeerStream& s, int) {
    bool first = true;
    for (;;) {
      auto request = s.read_message();
      const std::string name(testing::command_name_of(request));
      if (name == "isMaster" || name == "hello") {
        if (first) {
          const int now = ++handshaking;
          for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
          }
          std::this_thread::sleep_for(20ms);
          --handshaking;
          first = false;
        }
        s.write(testing::reply_to(request, testing::standard_hello_reply()));
        continue;
      }
      s.write(testing::reply_to(request, Recorder::answer(name)));
    }
  });
  asio::io_context io;
  MongoClient client = client_on(io, uri_of(server, "&maxPoolSize=50"));
  Collection coll = client["app"]["c"];
  int found = 0, failed = 0;
  for (int i = 0; i < 50; ++i) {
    coll.async_find_one(bson::View(),
                        [&](boost::system::error_code ec, std::optional<bson::Document> doc) {
                          ++(!ec && doc ? found : failed);
                        });
  }
  io.run();
  EXPECT_EQ(found, 50);
  EXPECT_EQ(failed, 0);
  // The monitor's handshake ended before selection let any operation through, so every overlap
  // is the pool's: exactly maxConnecting (2), the limit and not a lack of overlap.
  EXPECT_EQ(most.load(), 2);
}

// An operation queued for a connection (maxPoolSize=1, the one connection held by a find the
// server never answers): it fails with pool_timeout at waitQueueTimeoutMS (the selection
// timeout here), a cancelled one with operation_aborted, and the client's close() completes
// one still queued with client_closed, as it does the hung find.
TEST(AsyncOperations, AnOperationQueuedForAConnectionTimesOutIsCancelledOrSeesTheClose) {
  Recorder recorder;
  recorder.hang_on = "find";
  LoopbackServer server(recorder.script());
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  std::optional<MongoClient> client(
      client_on(io, "mongodb://" + server.address().to_string() +
                        "/?serverSelectionTimeoutMS=300&connectTimeoutMS=10000&maxPoolSize=1"));
  Collection coll = (*client)["app"]["c"];

  std::mutex mutex;
  std::vector<boost::system::error_code> results;  // in completion order
  auto record = [&](boost::system::error_code ec, auto&&...) {
    std::lock_guard lock(mutex);
    results.push_back(ec);
  };
  auto wait_for = [&](std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      {
        std::lock_guard lock(mutex);
        if (results.size() >= n) return true;
      }
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
  };
  coll.async_find_one(bson::View(), record);
  ASSERT_TRUE(recorder.wait_hung(1));
  const auto doc = bson::Builder{}.append("x", 1).build();
  coll.async_insert_one(doc.view(), record);  // queued, then waitQueueTimeoutMS
  ASSERT_TRUE(wait_for(1));
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(std_code(results[0]), errc::pool_timeout) << results[0].message();
  }

  asio::cancellation_signal signal;
  asio::post(io, [&] {
    coll.async_insert_one(doc.view(), asio::bind_cancellation_slot(signal.slot(), record));
  });
  std::this_thread::sleep_for(50ms);  // queued by now (the timeout is 300 ms away)
  asio::post(io, [&] { signal.emit(asio::cancellation_type::terminal); });
  ASSERT_TRUE(wait_for(2));
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(results[1], asio::error::operation_aborted) << results[1].message();
  }

  coll.async_insert_one(doc.view(), record);  // queued when the client closes
  std::this_thread::sleep_for(50ms);
  client.reset();
  ASSERT_TRUE(wait_for(4));
  work.reset();
  runner.join();
  std::lock_guard lock(mutex);
  EXPECT_EQ(std_code(results[2]), errc::client_closed) << results[2].message();
  EXPECT_EQ(std_code(results[3]), errc::client_closed) << results[3].message();
  // Only the find reached the server: the queued writes never had a connection.
  for (const auto& command : recorder.taken()) EXPECT_NE((*command.view().begin()).key(), "insert");
}

// The Collection handle an operation was started from may be gone before the operation runs
// (a temporary, as here): the operation keeps what it needs. A database name longer than the
// small-string buffer, so that a view of the handle's name would point into freed heap.
TEST(AsyncOperations, AnOperationOutlivesTheHandleItWasStartedFrom) {
  Recorder recorder;
  LoopbackServer server(recorder.script());
  asio::io_context io;
  MongoClient client = client_on(io, uri_of(server));
  const std::string db = "a_database_name_longer_than_any_small_string_buffer";
  std::optional<boost::system::error_code> result;
  std::optional<bson::Document> found;
  client[db]["c"].async_find_one(
      bson::View(), [&](boost::system::error_code ec, std::optional<bson::Document> doc) {
        result = ec;
        found = std::move(doc);
      });
  // The handle is destroyed; only now does the operation run.
  io.run();
  ASSERT_TRUE(result);
  EXPECT_FALSE(*result) << result->message();
  EXPECT_TRUE(found);
  const auto commands = recorder.taken();
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_EQ(commands[0]["$db"].get_string(), db);
}

}  // namespace
}  // namespace mongoslice
