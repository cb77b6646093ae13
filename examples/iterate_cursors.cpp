// iterate_cursors: iterate a cursor to the end, then abandon a few and watch them get killed.
//
//   iterate_cursors --uri URI [--db D] [--coll C] [--docs N] [--batch-size B] [--abandon K]
//                   [--wait-ms W] [--server-selection-timeout-ms T]
//
// Makes sure D.C holds N documents (default 1000), iterates one cursor to the end with batch
// size B (default 100), then opens K cursors (default 3), reads one document from each and drops
// it. Each dropped cursor is still open on the server, so its destructor hands the id to the
// client's kill-cursors executor, which sends killCursors within milliseconds. The program
// prints "abandoned cursor <id> ns=<db.coll>" for each, then waits (up to W ms, default 5000)
// for the driver's command events to confirm each kill: "killed <id> in <ms> ms", or
// "not killed <id>". Exit status 0 only if every abandoned cursor was killed.

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <vector>

#include "examples/cli.hpp"
#include "mongoslice.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace mongoslice;

// Collects the outcome of every killCursors the client sends, keyed by cursor id.
class KillWatcher : public EventListener {
 public:
  void on(const CommandSucceededEvent& event) override {
    if (event.command_name != "killCursors") return;
    std::lock_guard lock(mutex_);
    for (const char* field : {"cursorsKilled", "cursorsNotFound", "cursorsUnknown"}) {
      auto ids = event.reply.find(field);
      if (!ids || ids->type() != bson::Type::kArray) continue;
      for (auto id : ids->get_array()) {
        if (id.is_number()) outcome_[id.as_int64()] = {Clock::now(), field};
      }
    }
    changed_.notify_all();
  }

  void on(const CursorsDroppedEvent& event) override {
    std::lock_guard lock(mutex_);
    for (auto id : event.cursor_ids) outcome_[id] = {Clock::now(), "dropped"};
    changed_.notify_all();
  }

  struct Outcome {
    Clock::time_point when;
    std::string field;
  };

  // Waits until every id has an outcome or the deadline passes.
  std::map<std::int64_t, Outcome> wait_for(const std::vector<std::int64_t>& ids,
                                           Clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    changed_.wait_until(lock, deadline, [&] {
      for (auto id : ids) {
        if (!outcome_.contains(id)) return false;
      }
      return true;
    });
    return outcome_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::int64_t, Outcome> outcome_;
};

void fill(const Collection& coll, long long docs) {
  if (coll.count_documents(bson::Document()) == docs) return;
  coll.delete_many(bson::Document());
  std::vector<bson::Document> batch;
  for (long long i = 0; i < docs; ++i) {
    batch.push_back(bson::Builder{}
                        .append("i", static_cast<std::int64_t>(i))
                        .append("text", "a document for iterate_cursors")
                        .build());
    if (batch.size() == 1000 || i + 1 == docs) {
      coll.insert_many(batch);
      batch.clear();
    }
  }
}

int run(const examples::Args& args) {
  std::string uri = examples::with_selection_timeout(examples::uri_from(args), args);
  std::string db = args.get("db", "mongoslice_demo");
  std::string coll_name = args.get("coll", "cursors");
  long long docs = args.get_int("docs", 1000, 1);
  auto batch_size = static_cast<std::int32_t>(args.get_int("batch-size", 100, 1));
  long long abandon = args.get_int("abandon", 3, 0);
  long long wait_ms = args.get_int("wait-ms", 5000, 0);

  auto watcher = std::make_shared<KillWatcher>();
  MongoClient client(uri, ClientOptions{.listeners = {watcher}});
  Collection coll = client[db][coll_name];

  fill(coll, docs);
  long long seen = 0;
  for (bson::View doc : coll.find(bson::Document(), {.batch_size = batch_size})) {
    (void)doc;
    ++seen;
  }
  std::printf("iterated %lld documents of %s.%s with batch size %d\n", seen, db.c_str(),
              coll_name.c_str(), batch_size);

  std::vector<std::int64_t> abandoned;
  std::map<std::int64_t, Clock::time_point> dropped_at;
  for (long long i = 0; i < abandon; ++i) {
    Cursor cursor = coll.find(bson::Document(), {.batch_size = batch_size});
    auto it = cursor.begin();  // reads the first batch; we look at one document of it
    if (it == cursor.end() || cursor.id() == 0) {
      std::printf("cursor %lld was exhausted by its first batch: use --docs > --batch-size\n", i);
      continue;
    }
    std::int64_t id = cursor.id();
    std::printf("abandoned cursor %lld ns=%s.%s\n", static_cast<long long>(id), db.c_str(),
                coll_name.c_str());
    std::fflush(stdout);
    dropped_at[id] = Clock::now();
    abandoned.push_back(id);
  }  // each cursor is destroyed here, still open on the server

  auto outcomes = watcher->wait_for(abandoned, Clock::now() + std::chrono::milliseconds(wait_ms));
  bool all_killed = abandoned.size() == static_cast<std::size_t>(abandon);
  for (auto id : abandoned) {
    auto found = outcomes.find(id);
    if (found != outcomes.end() && found->second.field == "cursorsKilled") {
      auto ms = std::chrono::duration<double, std::milli>(found->second.when - dropped_at[id]);
      std::printf("killed %lld in %.1f ms\n", static_cast<long long>(id), ms.count());
    } else {
      std::printf("not killed %lld%s\n", static_cast<long long>(id),
                  found == outcomes.end() ? "" : (" (" + found->second.field + ")").c_str());
      all_killed = false;
    }
  }
  return all_killed ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    examples::Args args(argc, argv,
                        {"uri", "db", "coll", "docs", "batch-size", "abandon", "wait-ms",
                         "server-selection-timeout-ms"});
    return run(args);
  } catch (const std::invalid_argument& e) {
    if (*e.what()) std::fprintf(stderr, "iterate_cursors: %s\n", e.what());
    std::fprintf(stderr,
                 "usage: iterate_cursors --uri URI [--db D] [--coll C] [--docs N] "
                 "[--batch-size B] [--abandon K] [--wait-ms W] "
                 "[--server-selection-timeout-ms T]\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "iterate_cursors: error: %s\n", examples::one_line(e.what()).c_str());
    return 1;
  }
}
