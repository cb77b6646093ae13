// async_iterate: the async API in one coroutine on one io_context (one thread).
//
//   async_iterate --uri URI [--db D] [--coll C] [--docs N] [--batch-size B] [--concurrent K]
//                 [--wait-ms W] [--server-selection-timeout-ms T]
//
// Empties D.C (default mongoslice_demo.async) and inserts N documents (default 10) with
// async_insert_many, iterates them with Cursor::async_next in batches of B (default 3, so
// getMores run), runs K async_find_ones at once (default 100; each co_spawned, all awaited), and
// abandons a live cursor: it reads one document and drops the cursor, whose destructor hands the
// id to the client's kill-cursors executor. Prints:
//   inserted N documents into D.C
//   iterated N documents with batch size B (G getMores)
//   K concurrent find_ones: K found the right document
//   abandoned cursor <id> ns=D.C after 1 document: killCursors will be sent by the kill-cursors
//   executor
// then waits (up to W ms, default 5000) for the killCursors reply: "killed <id>", or
// "not killed <id>". Exit status 0 only if every step gave what it should.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "examples/cli.hpp"
#include "mongoslice.hpp"

namespace {

namespace asio = boost::asio;
using namespace mongoslice;

// Counts getMores and remembers the ids that killCursors replies name as killed (the listener
// runs on the operations' thread and on the kill-cursors executor's).
class Watcher : public EventListener {
 public:
  void on(const CommandSucceededEvent& event) override {
    std::lock_guard lock(mutex_);
    if (event.command_name == "getMore") ++get_mores_;
    if (event.command_name != "killCursors") return;
    auto ids = event.reply.find("cursorsKilled");
    if (!ids || ids->type() != bson::Type::kArray) return;
    for (auto id : ids->get_array()) {
      if (id.is_number()) killed_.insert(id.as_int64());
    }
    changed_.notify_all();
  }
  int get_mores() {
    std::lock_guard lock(mutex_);
    return get_mores_;
  }
  bool wait_killed(std::int64_t id, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return killed_.contains(id); });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int get_mores_ = 0;
  std::set<std::int64_t> killed_;
};

struct Settings {
  std::string db;
  std::string coll;
  long long docs = 0;
  std::int32_t batch_size = 0;
  long long concurrent = 0;
};

// What the coroutine found, for main to report and judge.
struct Outcome {
  long long inserted = 0;
  long long iterated = 0;
  long long found_right = 0;
  std::int64_t abandoned_id = 0;
};

// One of the concurrent reads: document {i: i} must come back.
asio::awaitable<void> find_one(Collection coll, long long i, long long& right) {
  const bson::Document filter = bson::Builder{}.append("i", static_cast<std::int64_t>(i)).build();
  std::optional<bson::Document> doc =
      co_await coll.async_find_one(filter.view(), asio::use_awaitable);
  if (doc && (*doc)["i"].as_int64() == i) ++right;
}

asio::awaitable<void> tour(Collection coll, Settings settings, Watcher& watcher, Outcome& out) {
  const auto use = asio::use_awaitable;
  const bson::Document all;
  DeleteResult cleared = co_await coll.async_delete_many(all.view(), use);
  (void)cleared;
  std::vector<bson::Document> docs;
  for (long long i = 0; i < settings.docs; ++i) {
    docs.push_back(bson::Builder{}.append("i", static_cast<std::int64_t>(i)).build());
  }
  InsertManyResult inserted = co_await coll.async_insert_many(std::move(docs), use);
  out.inserted = inserted.inserted_count;
  std::printf("inserted %lld documents into %s.%s\n", out.inserted, settings.db.c_str(),
              settings.coll.c_str());

  FindOptions options;
  options.batch_size = settings.batch_size;
  options.sort = bson::Builder{}.append("i", 1).build();
  const int get_mores_before = watcher.get_mores();
  {
    Cursor cursor = co_await coll.async_find(all.view(), options, use);
    for (;;) {
      std::optional<bson::View> doc = co_await cursor.async_next(use);
      if (!doc) break;
      ++out.iterated;
    }
  }
  std::printf("iterated %lld documents with batch size %d (%d getMores)\n", out.iterated,
              settings.batch_size, watcher.get_mores() - get_mores_before);

  // Spawned, not awaited one by one: all of them are in flight at once on this thread.
  // The last read to complete cancels `all_done`, a timer that would otherwise never expire.
  long long pending = settings.concurrent;
  const auto executor = co_await asio::this_coro::executor;
  asio::steady_timer all_done(executor, asio::steady_timer::time_point::max());
  for (long long k = 0; k < settings.concurrent; ++k) {
    asio::co_spawn(executor, find_one(coll, k % settings.docs, out.found_right),
                   [&pending, &all_done](std::exception_ptr e) {
                     if (e) {
                       try {
                         std::rethrow_exception(e);
                       } catch (const std::exception& error) {
                         std::fprintf(stderr, "async_iterate: find_one failed: %s\n",
                                      examples::one_line(error.what()).c_str());
                       }
                     }
                     if (--pending == 0) all_done.cancel();
                   });
  }
  if (pending > 0) {
    boost::system::error_code cancelled;
    co_await all_done.async_wait(asio::redirect_error(use, cancelled));
  }
  std::printf("%lld concurrent find_ones: %lld found the right document\n", settings.concurrent,
              out.found_right);

  {
    Cursor cursor = co_await coll.async_find(all.view(), options, use);
    std::optional<bson::View> first = co_await cursor.async_next(use);
    if (first && cursor.id() != 0) {
      out.abandoned_id = cursor.id();
      std::printf(
          "abandoned cursor %lld ns=%s.%s after 1 document: killCursors will be sent by the "
          "kill-cursors executor\n",
          static_cast<long long>(out.abandoned_id), settings.db.c_str(), settings.coll.c_str());
    } else {
      std::printf("the cursor was exhausted by its first batch: use --docs > --batch-size\n");
    }
    std::fflush(stdout);
  }  // destroyed here, still open on the server
}

int run(const examples::Args& args) {
  const std::string uri = examples::with_selection_timeout(examples::uri_from(args), args);
  Settings settings;
  settings.db = args.get("db", "mongoslice_demo");
  settings.coll = args.get("coll", "async");
  settings.docs = args.get_int("docs", 10, 1);
  settings.batch_size = static_cast<std::int32_t>(args.get_int("batch-size", 3, 1));
  settings.concurrent = args.get_int("concurrent", 100, 0);
  const long long wait_ms = args.get_int("wait-ms", 5000, 0);

  asio::io_context io;
  auto watcher = std::make_shared<Watcher>();
  ClientOptions options;
  options.listeners.push_back(watcher);
  options.executor = io.get_executor();
  MongoClient client(uri, std::move(options));
  Collection coll = client[settings.db][settings.coll];

  Outcome out;
  std::exception_ptr failure;
  asio::co_spawn(io, tour(coll, settings, *watcher, out),
                 [&failure](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);

  bool ok = out.inserted == settings.docs && out.iterated == settings.docs &&
            out.found_right == settings.concurrent && out.abandoned_id != 0;
  if (out.abandoned_id != 0) {
    if (watcher->wait_killed(out.abandoned_id, std::chrono::milliseconds(wait_ms))) {
      std::printf("killed %lld\n", static_cast<long long>(out.abandoned_id));
    } else {
      std::printf("not killed %lld\n", static_cast<long long>(out.abandoned_id));
      ok = false;
    }
  }
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    examples::Args args(argc, argv,
                        {"uri", "db", "coll", "docs", "batch-size", "concurrent", "wait-ms",
                         "server-selection-timeout-ms"});
    return run(args);
  } catch (const std::invalid_argument& e) {
    if (*e.what()) std::fprintf(stderr, "async_iterate: %s\n", e.what());
    std::fprintf(stderr,
                 "usage: async_iterate --uri URI [--db D] [--coll C] [--docs N] "
                 "[--batch-size B] [--concurrent K] [--wait-ms W] "
                 "[--server-selection-timeout-ms T]\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "async_iterate: error: %s\n", examples::one_line(e.what()).c_str());
    return 1;
  }
}
