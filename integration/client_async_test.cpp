// The async API (async_ twins, Cursor::async_next) against each real server the ctest fixtures
// start (FerretDB, or MONGODB_URI's mongod in its place, and mongo-java-server): the same
// results as the sync calls, errors as the sync calls throw them, 1,000 operations in flight
// from one thread, abandoned async cursors killed (as the server's log shows), and the
// use_future and deferred tokens.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "client_test_support.hpp"
#include "mongoslice.hpp"
#include "run_awaitable.hpp"
#include "server_deviations.hpp"

namespace mongoslice {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::EventRecorder;
using testing::RealServer;

bson::Document json(std::string_view text) {
  return bson::Document::from_json(text);
}

using testing::run;

// What a sequence of operations gave, one line per result, so that the sync and the async runs
// compare as text.
using Transcript = std::vector<std::string>;

std::string docs_text(const std::vector<bson::Document>& docs) {
  std::string out = "[";
  for (const auto& d : docs) out += d.to_json() + ";";
  return out + "]";
}
std::string update_text(const UpdateResult& r) {
  return "matched " + std::to_string(r.matched_count) + " modified " +
         std::to_string(r.modified_count) + " upserted " + std::to_string(r.upserted_count);
}
std::string bulk_text(const BulkWriteResult& r) {
  return "inserted " + std::to_string(r.inserted_count) + " matched " +
         std::to_string(r.matched_count) + " modified " + std::to_string(r.modified_count) +
         " deleted " + std::to_string(r.deleted_count) + " upserted " +
         std::to_string(r.upserted_count);
}
bool names_collection(const std::vector<bson::Document>& entries, const std::string& name) {
  for (const auto& e : entries) {
    if (e["name"].get_string() == name) return true;
  }
  return false;
}

std::vector<WriteModel> bulk_requests() {
  std::vector<WriteModel> models;
  models.push_back(InsertOneModel{json(R"({"_id": 20, "x": 0})")});
  models.push_back(UpdateOneModel{json(R"({"_id": 20})"), json(R"({"$set": {"b": 1}})"), {}});
  models.push_back(DeleteOneModel{json(R"({"_id": 0})"), {}});
  return models;
}

// The documents every run starts with after its first insert_one: {_id: i, x: i % 2}, i in
// [1, 10).
std::vector<bson::Document> ten_minus_one() {
  std::vector<bson::Document> docs;
  for (int i = 1; i < 10; ++i)
    docs.push_back(bson::Builder{}.append("_id", i).append("x", i % 2).build());
  return docs;
}

Transcript sync_crud(const Collection& coll, const Database& db) {
  Transcript t;
  t.push_back(coll.insert_one(json(R"({"_id": 0, "x": 0})")).inserted_id.to_json());
  t.push_back(std::to_string(coll.insert_many(ten_minus_one()).inserted_count));
  FindOptions by_id;
  by_id.sort = json(R"({"_id": 1})");
  by_id.batch_size = 2;
  std::vector<bson::Document> found;
  for (bson::View d : coll.find(bson::Document(), by_id)) found.emplace_back(d);
  t.push_back(docs_text(found));
  auto one = coll.find_one(json(R"({"_id": 3})"));
  t.push_back(one ? one->to_json() : "none");
  t.push_back(update_text(coll.update_one(json(R"({"x": 1})"), json(R"({"$set": {"y": 1}})"))));
  t.push_back(update_text(coll.update_many(json(R"({"x": 0})"), json(R"({"$inc": {"n": 1}})"))));
  t.push_back(update_text(coll.replace_one(json(R"({"_id": 4})"), json(R"({"r": true})"))));
  t.push_back(std::to_string(coll.delete_one(json(R"({"_id": 5})")).deleted_count));
  t.push_back(std::to_string(coll.delete_many(json(R"({"x": 1})")).deleted_count));
  t.push_back(bulk_text(coll.bulk_write(bulk_requests())));
  std::vector<bson::Document> aggregated;
  for (bson::View d : coll.aggregate(json(R"([{"$sort": {"_id": 1}}])")))
    aggregated.emplace_back(d);
  t.push_back(docs_text(aggregated));
  std::vector<bson::Document> counted;
  for (bson::View d : coll.aggregate(json(R"([{"$count": "n"}])"))) counted.emplace_back(d);
  t.push_back(docs_text(counted));
  t.push_back(std::to_string(db.run_command(json(R"({"ping": 1})"))["ok"].as_double()));
  std::vector<bson::Document> listed;
  for (bson::View d : db.list_collections()) listed.emplace_back(d);
  t.push_back(names_collection(listed, coll.name()) ? "listed" : "not listed");
  return t;
}

asio::awaitable<Transcript> async_crud(Collection coll, Database db) {
  const auto use = asio::use_awaitable;
  Transcript t;
  const bson::Document first = json(R"({"_id": 0, "x": 0})");
  InsertOneResult inserted = co_await coll.async_insert_one(first.view(), use);
  t.push_back(inserted.inserted_id.to_json());
  InsertManyResult many = co_await coll.async_insert_many(ten_minus_one(), use);
  t.push_back(std::to_string(many.inserted_count));

  FindOptions by_id;
  by_id.sort = json(R"({"_id": 1})");
  by_id.batch_size = 2;
  const bson::Document all;
  Cursor cursor = co_await coll.async_find(all.view(), by_id, use);
  std::vector<bson::Document> found;
  for (;;) {
    std::optional<bson::View> d = co_await cursor.async_next(use);
    if (!d) break;
    found.emplace_back(*d);
  }
  t.push_back(docs_text(found));

  const bson::Document three = json(R"({"_id": 3})");
  std::optional<bson::Document> one = co_await coll.async_find_one(three.view(), use);
  t.push_back(one ? one->to_json() : "none");

  const bson::Document odd = json(R"({"x": 1})");
  const bson::Document even = json(R"({"x": 0})");
  const bson::Document set_y = json(R"({"$set": {"y": 1}})");
  const bson::Document inc_n = json(R"({"$inc": {"n": 1}})");
  UpdateResult u1 = co_await coll.async_update_one(odd.view(), set_y.view(), use);
  t.push_back(update_text(u1));
  UpdateResult u2 = co_await coll.async_update_many(even.view(), inc_n.view(), use);
  t.push_back(update_text(u2));
  const bson::Document four = json(R"({"_id": 4})");
  const bson::Document replacement = json(R"({"r": true})");
  UpdateResult r = co_await coll.async_replace_one(four.view(), replacement.view(), use);
  t.push_back(update_text(r));
  const bson::Document five = json(R"({"_id": 5})");
  DeleteResult d1 = co_await coll.async_delete_one(five.view(), use);
  t.push_back(std::to_string(d1.deleted_count));
  DeleteResult d2 = co_await coll.async_delete_many(odd.view(), use);
  t.push_back(std::to_string(d2.deleted_count));
  BulkWriteResult bulk = co_await coll.async_bulk_write(bulk_requests(), use);
  t.push_back(bulk_text(bulk));

  const bson::Document sort = json(R"([{"$sort": {"_id": 1}}])");
  Cursor sorted = co_await coll.async_aggregate(sort.view(), use);
  std::vector<bson::Document> aggregated;
  for (;;) {
    std::optional<bson::View> d = co_await sorted.async_next(use);
    if (!d) break;
    aggregated.emplace_back(*d);
  }
  t.push_back(docs_text(aggregated));
  const bson::Document count = json(R"([{"$count": "n"}])");
  Cursor counting = co_await coll.async_aggregate(count.view(), use);
  std::vector<bson::Document> counted;
  for (;;) {
    std::optional<bson::View> d = co_await counting.async_next(use);
    if (!d) break;
    counted.emplace_back(*d);
  }
  t.push_back(docs_text(counted));

  const bson::Document ping = json(R"({"ping": 1})");
  bson::Document pong = co_await db.async_run_command(ping.view(), use);
  t.push_back(std::to_string(pong["ok"].as_double()));
  Cursor collections = co_await db.async_list_collections(use);
  std::vector<bson::Document> listed;
  for (;;) {
    std::optional<bson::View> d = co_await collections.async_next(use);
    if (!d) break;
    listed.emplace_back(*d);
  }
  t.push_back(names_collection(listed, coll.name()) ? "listed" : "not listed");
  co_return t;
}

// A client on the test's io_context (ClientOptions::executor, for the tokens that bring no
// executor of their own) recording its events; collections named after the test in
// client_async_it, dropped before and after.
class ClientAsync : public ::testing::TestWithParam<RealServer> {
 protected:
  void SetUp() override {
    MONGOSLICE_SKIP_IF_THE_SERVER_DEVIATES();
    connect("");
  }
  void TearDown() override {
    for (const auto& c : made_) c.drop();
  }
  // (Re)connects with `query` ("maxPoolSize=100") added to the fixture's URI.
  void connect(const std::string& query) {
    std::string uri = GetParam().uri();
    if (!query.empty()) uri += (uri.find('?') == std::string::npos ? "?" : "&") + query;
    events_ = std::make_shared<EventRecorder>();
    ClientOptions options;
    options.listeners.push_back(events_);
    options.executor = io_.get_executor();
    made_.clear();
    client_.emplace(uri, std::move(options));
  }
  Collection collection(const std::string& suffix) {
    std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    Collection coll = (*client_)["client_async_it"][test.substr(0, test.find('/')) + suffix];
    coll.drop();
    made_.push_back(coll);
    return coll;
  }

  asio::io_context io_;
  std::shared_ptr<EventRecorder> events_;
  std::optional<MongoClient> client_;
  std::vector<Collection> made_;
};

TEST_P(ClientAsync, CrudGivesWhatTheSyncCallsGive) {
  Collection sync_coll = collection("_sync");
  Collection async_coll = collection("_async");
  Database db = (*client_)["client_async_it"];
  const Transcript expected = sync_crud(sync_coll, db);
  events_->clear();
  const Transcript got = run(io_, async_crud(async_coll, db));
  EXPECT_EQ(got, expected);
  // Not merely equal: what the servers must have answered.
  ASSERT_EQ(got.size(), 14u);
  EXPECT_EQ(got[0], R"({ "_id" : 0 })");
  EXPECT_EQ(got[1], "9");
  EXPECT_EQ(std::count(got[2].begin(), got[2].end(), ';'), 10) << got[2];
  EXPECT_EQ(got[3], R"({ "_id" : 3, "x" : 1 })");
  EXPECT_EQ(got[4], "matched 1 modified 1 upserted 0");
  EXPECT_EQ(got[5], "matched 5 modified 5 upserted 0");
  EXPECT_EQ(got[7], "1");
  EXPECT_EQ(got[8], "4");  // 1, 3, 7, 9 (5 is gone)
  EXPECT_EQ(got[9], "inserted 1 matched 1 modified 1 deleted 1 upserted 0");
  EXPECT_EQ(got[11], R"([{ "n" : 5 };])") << "2, 4, 6, 8, 20";
  EXPECT_EQ(got[12], "1.000000");
  EXPECT_EQ(got[13], "listed");
  // The 10 documents in batches of 2: the first batch and at least 4 getMores, all async.
  EXPECT_GE(events_->count("getMore", "succeeded"), 4u);
}

TEST_P(ClientAsync, ADuplicateIdIsABulkWriteErrorAsInTheSyncCall) {
  Collection coll = collection("");
  const bson::Document doc = json(R"({"_id": 1})");
  coll.insert_one(doc);
  std::int32_t sync_code = 0;
  try {
    coll.insert_one(doc);
    ADD_FAILURE() << "the sync duplicate was accepted";
  } catch (const BulkWriteError& e) {
    sync_code = e.server_code();
  }
  ASSERT_NE(sync_code, 0);

  std::int32_t async_code = 0;
  std::string async_kind = "nothing thrown";
  asio::co_spawn(
      io_,
      [](Collection coll, bson::View doc, std::int32_t& code,
         std::string& kind) -> asio::awaitable<void> {
        try {
          co_await coll.async_insert_one(doc, asio::use_awaitable);
        } catch (const BulkWriteError& e) {
          code = e.server_code();
          kind = "BulkWriteError";
        } catch (const std::exception& e) {
          kind = std::string("another error: ") + e.what();
        }
      }(coll, doc.view(), async_code, async_kind),
      asio::detached);
  io_.run();
  EXPECT_EQ(async_kind, "BulkWriteError");
  EXPECT_EQ(async_code, sync_code);

  std::optional<boost::system::error_code> callback_ec;
  coll.async_insert_one(doc.view(),
                        [&](boost::system::error_code ec, InsertOneResult) { callback_ec = ec; });
  io_.restart();
  io_.run();
  ASSERT_TRUE(callback_ec) << "the callback never ran";
  EXPECT_TRUE(*callback_ec) << "a duplicate _id gave no error";
  EXPECT_EQ(std::error_code(*callback_ec), std::error_code(sync_code, server_category()))
      << callback_ec->message();
  EXPECT_EQ(coll.count_documents(bson::Document()), 1);
}

asio::awaitable<void> find_one_checked(Collection coll, int id, int& right, int& wrong,
                                       std::string& first_error) {
  const bson::Document filter = bson::Builder{}.append("_id", id).build();
  try {
    std::optional<bson::Document> doc =
        co_await coll.async_find_one(filter.view(), asio::use_awaitable);
    if (doc && (*doc)["v"].as_int64() == id * 10) {
      ++right;
    } else {
      ++wrong;
    }
  } catch (const std::exception& e) {
    ++wrong;
    if (first_error.empty()) first_error = e.what();
  }
}

TEST_P(ClientAsync, AThousandFindOnesInFlightFromOneThread) {
  connect("maxPoolSize=100");
  Collection coll = collection("");
  std::vector<bson::Document> docs;
  for (int i = 0; i < 50; ++i)
    docs.push_back(bson::Builder{}.append("_id", i).append("v", i * 10).build());
  coll.insert_many(docs);
  events_->clear();
  int right = 0, wrong = 0;
  std::string first_error;
  for (int i = 0; i < 1000; ++i) {
    asio::co_spawn(io_, find_one_checked(coll, i % 50, right, wrong, first_error), asio::detached);
  }
  const std::thread::id runner = std::this_thread::get_id();
  io_.run();  // everything above ran here, on this one thread
  EXPECT_EQ(std::this_thread::get_id(), runner);
  EXPECT_EQ(right, 1000) << wrong << " wrong; first error: " << first_error;
  EXPECT_EQ(events_->count("find", "succeeded"), 1000u);
}

// A cursor of async_find destroyed while live: its kill goes to the kill-cursors executor, which
// sends killCursors (the command events and the server's log show it) and the server forgets it.
TEST_P(ClientAsync, AnAbandonedAsyncCursorIsKilled) {
  const RealServer& server = GetParam();
  Collection coll = collection("");
  std::vector<bson::Document> docs;
  for (int i = 0; i < 10; ++i) docs.push_back(bson::Builder{}.append("_id", i).build());
  coll.insert_many(docs);
  auto read_one_and_drop = [](Collection coll) -> asio::awaitable<std::int64_t> {
    FindOptions options;
    options.batch_size = 2;
    const bson::Document all;
    Cursor cursor = co_await coll.async_find(all.view(), options, asio::use_awaitable);
    std::optional<bson::View> first = co_await cursor.async_next(asio::use_awaitable);
    if (!first) co_return -1;
    const std::int64_t id = cursor.id();
    co_return id;  // the live cursor is destroyed here
  };
  const std::int64_t id = run(io_, read_one_and_drop(coll));
  ASSERT_GT(id, 0) << "no live cursor after the first batch";
  EXPECT_TRUE(testing::wait_until(
      [&] {
        auto ids = events_->killed_ids();
        return std::find(ids.begin(), ids.end(), id) != ids.end() &&
               events_->count("killCursors", "succeeded") > 0;
      },
      10s))
      << "no killCursors of " << id;
  if (server.log_is_readable()) {
    EXPECT_TRUE(testing::wait_until([&] { return server.log_shows_kill(coll.name(), id); }, 5s))
        << "no killCursors of " << id << " on " << coll.name() << " in " << server.log_path();
  } else {
    std::cout << "[ MONGODB_URI is set: the server's log is not checked ]\n";
  }
  try {
    (*client_)["client_async_it"].run_command(
        bson::Builder{}.append("getMore", id).append("collection", coll.name()).build());
    ADD_FAILURE() << "cursor " << id << " is still open";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), server_code::kCursorNotFound) << e.what();
  }
}

TEST_P(ClientAsync, UseFutureAndDeferredComplete) {
  Collection coll = collection("");
  auto work = asio::make_work_guard(io_);
  std::thread runner([&] { io_.run(); });
  const bson::Document doc = json(R"({"_id": 1, "v": "one"})");
  const bson::Document filter = json(R"({"_id": 1})");
  try {
    // use_future: blocks this thread while the io_context's thread runs the operation.
    std::future<InsertOneResult> inserted = coll.async_insert_one(doc.view(), asio::use_future);
    EXPECT_EQ(inserted.get().inserted_id.to_json(), R"({ "_id" : 1 })");
    std::future<std::int64_t> counted = coll.async_count_documents(filter.view(), asio::use_future);
    EXPECT_EQ(counted.get(), 1);
    // A failure is the future's exception, the error_code the callbacks get.
    std::future<InsertOneResult> duplicate = coll.async_insert_one(doc.view(), asio::use_future);
    try {
      duplicate.get();
      ADD_FAILURE() << "the duplicate was accepted";
    } catch (const boost::system::system_error& e) {
      EXPECT_NE(e.code().value(), 0);
    }

    // deferred: nothing is sent until the operation is invoked with a token.
    events_->clear();
    auto later = coll.async_find_one(filter.view(), asio::deferred);
    std::this_thread::sleep_for(50ms);  // (a send would have started by now)
    EXPECT_EQ(events_->count("find"), 0u);
    std::future<std::optional<bson::Document>> found = std::move(later)(asio::use_future);
    std::optional<bson::Document> got = found.get();
    ASSERT_TRUE(got);
    EXPECT_EQ((*got)["v"].get_string(), "one");
    EXPECT_EQ(events_->count("find", "succeeded"), 1u);

    auto update = json(R"({"$set": {"v": "uno"}})");
    auto deferred_update = coll.async_update_one(filter.view(), update.view(), asio::deferred);
    std::promise<UpdateResult> updated;
    std::move(deferred_update)([&](boost::system::error_code ec, UpdateResult r) {
      if (ec) {
        updated.set_exception(std::make_exception_ptr(boost::system::system_error(ec)));
      } else {
        updated.set_value(r);
      }
    });
    EXPECT_EQ(updated.get_future().get().modified_count, 1);
  } catch (...) {
    work.reset();
    runner.join();
    throw;
  }
  work.reset();
  runner.join();
  EXPECT_EQ(coll.find_one(filter), json(R"({"_id": 1, "v": "uno"})"));
}

INSTANTIATE_TEST_SUITE_P(, ClientAsync, ::testing::ValuesIn(testing::real_servers()),
                         testing::server_name);

}  // namespace
}  // namespace mongoslice
