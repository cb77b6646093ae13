// mongoslice's side of DriverBench (bench/driverbench/README.md): the driver benchmarking spec's
// tasks through mongoslice's public API. libmongoc_driverbench.c and pymongo_driverbench.py do
// the same tasks the same way; bench/driverbench/run.py runs the three and scores them.
//
//   bench_mongoslice_driverbench URI DATA_DIR ITERATIONS SEED SCALE LDJSON_FILES TASK...
//
// SEED 1 inserts the read tasks' documents first (FerretDB); 0 leaves that to the server (the
// replay server answers from canned data). SCALE divides the spec's operation counts (10,000 ->
// 10,000 / SCALE) for a slow server; LDJSON_FILES is how many of the 100 files ParallelBench uses.
// Prints one line per task: "TASK wall=t1,t2,... cpu=S ops=N", or "TASK error=MESSAGE".

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "../measurement.hpp"
#include "mongoslice.hpp"

namespace {

using mongoslice::bson::Builder;
using mongoslice::bson::Document;
using mongoslice::bson::Element;
using mongoslice::bson::Type;
using mongoslice::bson::View;

std::uint64_t g_sink = 0;  // what the visits read, so the compiler cannot drop them

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Reads every element's value (the "decode and visit every element" of the BSON tasks).
void visit(View doc) {
  for (Element e : doc) {
    g_sink += e.key().size();
    switch (e.type()) {
      case Type::kDouble:
        g_sink += static_cast<std::uint64_t>(e.get_double());
        break;
      case Type::kString:
        g_sink += e.get_string().size();
        break;
      case Type::kDocument:
        visit(e.get_document());
        break;
      case Type::kArray:
        visit(e.get_array());
        break;
      case Type::kBinary:
        g_sink += e.get_binary().bytes.size();
        break;
      case Type::kOid:
        g_sink += e.get_oid().bytes[0];
        break;
      case Type::kBool:
        g_sink += e.get_bool();
        break;
      case Type::kDateTime:
        g_sink += e.get_date_time().time_since_epoch().count() & 1;
        break;
      case Type::kRegex:
        g_sink += e.get_regex().pattern.size();
        break;
      case Type::kCode:
        g_sink += e.get_code().size();
        break;
      case Type::kCodeWithScope: {
        auto cws = e.get_code_with_scope();
        g_sink += cws.code.size();
        visit(cws.scope);
        break;
      }
      case Type::kInt32:
        g_sink += static_cast<std::uint64_t>(e.get_int32());
        break;
      case Type::kTimestamp:
        g_sink += e.get_timestamp().i;
        break;
      case Type::kInt64:
        g_sink += static_cast<std::uint64_t>(e.get_int64());
        break;
      case Type::kDecimal128:
        g_sink += e.get_decimal128().low & 1U;
        break;
      default:
        g_sink += 1;
        break;
    }
  }
}

// Builds a copy of `doc` value by value through the Builder: encoding from typed values, as
// libbson's bson_append_* do on the libmongoc side (a byte copy would encode nothing).
void encode_into(Builder& out, View doc) {
  for (Element e : doc) {
    const auto key = e.key();
    switch (e.type()) {
      case Type::kDouble:
        out.append(key, e.get_double());
        break;
      case Type::kString:
        out.append(key, e.get_string());
        break;
      case Type::kDocument:
        out.open_document(key);
        encode_into(out, e.get_document());
        out.close();
        break;
      case Type::kArray:
        out.open_array(key);
        encode_into(out, e.get_array());
        out.close();
        break;
      case Type::kBinary: {
        auto b = e.get_binary();
        out.append_binary(key, b.subtype, b.bytes);
        break;
      }
      case Type::kOid:
        out.append(key, e.get_oid());
        break;
      case Type::kBool:
        out.append(key, e.get_bool());
        break;
      case Type::kDateTime:
        out.append_date_time(key, e.get_date_time());
        break;
      case Type::kNull:
        out.append(key, nullptr);
        break;
      case Type::kRegex: {
        auto r = e.get_regex();
        out.append_regex(key, r.pattern, r.options);
        break;
      }
      case Type::kCode:
        out.append_code(key, e.get_code());
        break;
      case Type::kCodeWithScope: {
        auto cws = e.get_code_with_scope();
        out.append_code_with_scope(key, cws.code, cws.scope);
        break;
      }
      case Type::kInt32:
        out.append(key, e.get_int32());
        break;
      case Type::kTimestamp:
        out.append_timestamp(key, e.get_timestamp());
        break;
      case Type::kInt64:
        out.append(key, e.get_int64());
        break;
      case Type::kDecimal128:
        out.append_decimal128(key, e.get_decimal128());
        break;
      case Type::kMinKey:
        out.append_min_key(key);
        break;
      case Type::kMaxKey:
        out.append_max_key(key);
        break;
      default:
        throw std::runtime_error("encode: unsupported type in " + std::string(key));
    }
  }
}

struct Config {
  std::string uri;
  std::filesystem::path data;
  int iterations = 0;
  bool seed = true;
  int scale = 1;
  int ldjson_files = 100;
};

// Times `iterations` runs of `task`, calling `before` (untimed) ahead of each.
void measure(const std::string& name, const Config& config, long ops,
             const std::function<void()>& task, const std::function<void()>& before = {}) {
  std::vector<double> wall;
  double cpu = 0;
  try {
    for (int i = 0; i < config.iterations; ++i) {
      if (before) before();
      const double cpu0 = bench::cpu_s(), t0 = bench::now_s();
      task();
      wall.push_back(bench::now_s() - t0);
      cpu += bench::cpu_s() - cpu0;
    }
  } catch (const std::exception& e) {
    std::string message = e.what();
    std::replace(message.begin(), message.end(), '\n', ' ');
    std::printf("%s error=%s\n", name.c_str(), message.c_str());
    std::fflush(stdout);
    return;
  }
  std::printf("%s wall=", name.c_str());
  for (std::size_t i = 0; i < wall.size(); ++i) std::printf("%s%.9f", i ? "," : "", wall[i]);
  std::printf(" cpu=%.6f ops=%ld\n", cpu, ops);
  std::fflush(stdout);
}

Document from_json_file(const std::filesystem::path& path) {
  return Document::from_json(read_file(path));
}

void bson_task(const Config& config, const std::string& name) {
  // bson_<flat|deep|full>_<encode|decode>
  const auto dataset = name.substr(5, name.rfind('_') - 5);
  const bool encode = name.ends_with("_encode");
  const Document doc = from_json_file(config.data / "extended_bson" / (dataset + "_bson.json"));
  constexpr long kOps = 10'000;
  if (encode) {
    measure(name, config, kOps, [&] {
      for (long i = 0; i < kOps; ++i) {
        Builder out;
        encode_into(out, doc);
        g_sink += out.build().size();
      }
    });
  } else {
    measure(name, config, kOps, [&] {
      for (long i = 0; i < kOps; ++i) {
        // Document::from_bytes validates every byte (UTF-8 included) and copies them.
        visit(Document::from_bytes(doc.view().bytes()));
      }
    });
  }
}

void fresh_collection(const mongoslice::Database& db) {
  db["corpus"].drop();
  db.run_command(Document::from_json(R"({"create": "corpus"})"));
}

// Inserts `count` copies of `doc`, with _id 1..count when `with_ids` (untimed setup).
void seed(const mongoslice::Collection& coll, const Document& doc, long count, bool with_ids) {
  std::vector<Document> batch;
  for (long i = 1; i <= count; ++i) {
    if (with_ids) {
      Builder b;
      b.append("_id", static_cast<std::int32_t>(i));
      for (Element e : doc.view()) {
        if (e.key() != "_id") b.append(e.key(), e);
      }
      batch.push_back(b.build());
    } else {
      batch.push_back(doc);
    }
    if (batch.size() == 1000 || i == count) {
      coll.insert_many(batch);
      batch.clear();
    }
  }
}

std::vector<std::filesystem::path> ldjson_paths(const Config& config) {
  std::vector<std::filesystem::path> paths;
  for (int i = 0; i < config.ldjson_files; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "ldjson%03d.txt", i);
    paths.push_back(config.data / "parallel" / "ldjson_multi" / name);
  }
  return paths;
}

// One file: parse every line, insert them with one insert_many.
void import_file(const mongoslice::Collection& coll, const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<Document> docs;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) docs.push_back(Document::from_json(line));
  }
  coll.insert_many(docs);
}

void driver_task(const Config& config, const std::string& name) {
  mongoslice::MongoClient client(config.uri);
  auto db = client["perftest"];
  auto coll = db["corpus"];
  const long ops = 10'000 / config.scale;
  const auto single = config.data / "single_and_multi_document";
  if (name == "run_command") {
    const auto hello = Document::from_json(R"({"hello": true})");
    auto admin = client["admin"];
    measure(name, config, ops, [&] {
      for (long i = 0; i < ops; ++i) g_sink += admin.run_command(hello).size();
    });
  } else if (name == "find_one") {
    const auto tweet = from_json_file(single / "tweet.json");
    if (config.seed) {
      db.drop();
      seed(coll, tweet, ops, true);
    }
    measure(name, config, ops, [&] {
      for (long i = 1; i <= ops; ++i) {
        Builder filter;
        filter.append("_id", static_cast<std::int32_t>(i));
        auto found = coll.find_one(filter.build());
        if (!found) throw std::runtime_error("find_one: no document with _id " + std::to_string(i));
        g_sink += found->size();
      }
    });
  } else if (name == "insert_one_small" || name == "insert_one_large") {
    const bool large = name.ends_with("large");
    const auto doc = from_json_file(single / (large ? "large_doc.json" : "small_doc.json"));
    const long n = large ? 10 : ops;
    db.drop();
    measure(
        name, config, n,
        [&] {
          for (long i = 0; i < n; ++i) coll.insert_one(doc);
        },
        [&] { fresh_collection(db); });
  } else if (name == "find_many") {
    const auto tweet = from_json_file(single / "tweet.json");
    if (config.seed) {
      db.drop();
      seed(coll, tweet, ops, false);
    }
    measure(name, config, ops, [&] {
      long docs = 0;
      for (View doc : coll.find(Document{})) {
        ++docs;
        g_sink += doc["text"].get_string().size();  // read one field of every document
      }
      if (docs != ops)
        throw std::runtime_error("find_many: " + std::to_string(docs) + " documents");
    });
  } else if (name == "insert_many_small" || name == "insert_many_large") {
    const bool large = name.ends_with("large");
    const auto doc = from_json_file(single / (large ? "large_doc.json" : "small_doc.json"));
    const long n = large ? 10 : ops;
    const std::vector<Document> copies(static_cast<std::size_t>(n), doc);
    db.drop();
    measure(
        name, config, n, [&] { coll.insert_many(copies); }, [&] { fresh_collection(db); });
  } else if (name == "ldjson_import") {
    const auto paths = ldjson_paths(config);
    db.drop();
    measure(
        name, config, static_cast<long>(paths.size()) * 5000,
        [&] {
          for (const auto& path : paths) import_file(coll, path);
        },
        [&] { fresh_collection(db); });
  } else if (name == "ldjson_export") {
    const auto paths = ldjson_paths(config);
    fresh_collection(db);
    for (const auto& path : paths) import_file(coll, path);
    const auto out_dir = std::filesystem::temp_directory_path() /
                         ("mongoslice-driverbench-export-" + std::to_string(getpid()));
    measure(name, config, static_cast<long>(paths.size()) * 5000, [&] {
      std::filesystem::create_directories(out_dir);
      long docs = 0;
      std::ofstream out;
      for (View doc : coll.find(Document{})) {
        if (docs % 5000 == 0) {
          char file[32];
          std::snprintf(file, sizeof file, "ldjson%03ld.txt", docs / 5000);
          out.close();
          out.open(out_dir / file, std::ios::trunc);
        }
        out << doc.to_json() << '\n';
        ++docs;
      }
      out.close();
      if (docs != static_cast<long>(paths.size()) * 5000) {
        throw std::runtime_error("ldjson_export: " + std::to_string(docs) + " documents");
      }
    });
    std::filesystem::remove_all(out_dir);
  } else {
    std::printf("%s error=unknown task\n", name.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 8) {
    std::fprintf(stderr, "usage: %s URI DATA_DIR ITERATIONS SEED SCALE LDJSON_FILES TASK...\n",
                 argv[0]);
    return 2;
  }
  Config config{argv[1],
                argv[2],
                std::atoi(argv[3]),
                std::atoi(argv[4]) != 0,
                std::max(1, std::atoi(argv[5])),
                std::atoi(argv[6])};
  for (int i = 7; i < argc; ++i) {
    const std::string task = argv[i];
    try {
      if (task.starts_with("bson_")) {
        bson_task(config, task);
      } else {
        driver_task(config, task);
      }
    } catch (const std::exception& e) {
      std::string message = e.what();
      std::replace(message.begin(), message.end(), '\n', ' ');
      std::printf("%s error=%s\n", task.c_str(), message.c_str());
      std::fflush(stdout);
    }
  }
  return g_sink == 42 ? 1 : 0;  // never 42 in practice; keeps g_sink observable
}
