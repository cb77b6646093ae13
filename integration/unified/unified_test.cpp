// The unified test format runner as gtest tests: one test per (file, test, server), so ctest
// counts them. Folders come from MONGOSLICE_UNIFIED_SPEC_DIRS (':'-separated), by default the
// format's own valid-pass / valid-fail / invalid folders, crud/tests/unified,
// command-logging-and-monitoring/tests/monitoring and run-command/tests/unified under the spec
// tests. The servers are FerretDB and mongo-java-server as the ctest fixtures started them, or,
// with MONGODB_URI set, that server in FerretDB's place (named MongoDB).
//
//  - a folder named "invalid": each file must be refused by the schema checks (one test per
//    file, no server);
//  - a folder named "valid-fail": each test must fail;
//  - any other folder: each test must pass.
// A test that is not run is skipped with its reason (skips.hpp); a file that cannot be read or
// breaks the schema fails.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "client_test_support.hpp"
#include "support/spec_test_files.hpp"
#include "unified/operations.hpp"
#include "unified/runner.hpp"
#include "unified/schema_check.hpp"
#include "unified/skips.hpp"

namespace mongoslice::unified {
namespace {

enum class Expect { kPass, kFail, kSchemaError };

std::vector<ServerTarget> servers() {
  std::vector<ServerTarget> out;
  if (const char* uri = std::getenv("MONGODB_URI"); uri && *uri) {
    out.push_back({"MongoDB", uri});
  } else {
    out.push_back({"FerretDB", ""});
  }
  out.push_back({"JavaServer", ""});
  return out;
}

// The URI of a server, read when the test runs (the fixture writes it once started).
std::string uri_of(const ServerTarget& server) {
  if (!server.uri.empty()) return server.uri;
  return server.name == "JavaServer" ? testing::java_server().uri() : testing::ferretdb().uri();
}

// "crud/tests/unified/find.json" from a path under a spec folder: the components from the
// spec's name on (the one before "tests"), else the last three.
std::string file_key(const std::filesystem::path& path) {
  std::vector<std::string> parts;
  for (const auto& p : path) parts.push_back(p.string());
  std::size_t begin = parts.size() >= 3 ? parts.size() - 3 : 0;
  for (std::size_t i = parts.size(); i-- > 1;) {
    if (parts[i] == "tests") {
      begin = i - 1;
      break;
    }
  }
  std::string key;
  for (std::size_t i = begin; i < parts.size(); ++i) key += (key.empty() ? "" : "/") + parts[i];
  return key;
}

// "crud_unified", "unified_test_format_valid_pass": the key without "tests" and the file name.
std::string suite_of(const std::string& key) {
  std::string out;
  std::size_t start = 0;
  std::vector<std::string> parts;
  for (std::size_t i = 0; i <= key.size(); ++i) {
    if (i == key.size() || key[i] == '/') {
      parts.push_back(key.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.pop_back();  // the file
  for (const auto& p : parts) {
    if (p == "tests") continue;
    out += (out.empty() ? "" : "_") + test::test_name_part(p);
  }
  return "Unified_" + out;
}

std::string short_name(const std::string& text, std::size_t max = 70) {
  std::string s = test::test_name_part(text);
  std::string out;
  for (char c : s) {
    if (c == '_' && !out.empty() && out.back() == '_') continue;
    out += c;
  }
  if (out.size() > max) out.resize(max);
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

class UnifiedTest : public ::testing::Test {
 public:
  UnifiedTest(TestCase test, ServerTarget server, Expect expect)
      : test_(std::move(test)), server_(std::move(server)), expect_(expect) {}

  void TestBody() override {
    ServerTarget server = server_;
    server.uri = uri_of(server_);
    std::vector<std::string> not_built;
    try {
      not_built = run_test(test_, server);
    } catch (const Unsupported& e) {
      GTEST_SKIP() << e.what();
    } catch (const TestFailure& e) {
      if (expect_ == Expect::kFail) {
        std::cout << "[unified] failed as expected: " << e.what() << "\n";
        return;
      }
      FAIL() << test_.file_key << " \"" << test_.description << "\": " << e.what();
    } catch (const std::exception& e) {
      if (expect_ == Expect::kFail) {
        std::cout << "[unified] failed as expected: " << e.what() << "\n";
        return;
      }
      FAIL() << test_.file_key << " \"" << test_.description << "\": " << e.what();
    }
    if (expect_ == Expect::kFail && !not_built.empty()) {
      std::string reasons;
      for (const auto& r : not_built) reasons += (reasons.empty() ? "" : "; ") + r;
      GTEST_SKIP() << "a valid-fail test that uses entities that are not built: " << reasons;
    }
    if (expect_ == Expect::kFail) {
      FAIL() << test_.file_key << " \"" << test_.description
             << "\" is a valid-fail test: it must fail, and it passed";
    }
  }

 private:
  TestCase test_;
  ServerTarget server_;
  Expect expect_;
};

// A file that must be refused by the schema checks (invalid/), or a file that could not be read.
class SchemaTest : public ::testing::Test {
 public:
  SchemaTest(std::filesystem::path path, Expect expect) : path_(std::move(path)), expect_(expect) {}
  void TestBody() override {
    bson::Document file;
    try {
      file = bson::Document::from_json(test::read_text_file(path_));
    } catch (const std::exception& e) {
      FAIL() << path_ << ": not a readable JSON test file: " << e.what();
    }
    const std::string error = check_schema(file);
    if (expect_ == Expect::kSchemaError) {
      EXPECT_FALSE(error.empty()) << path_ << " is in invalid/ but passes the schema checks";
      if (!error.empty()) std::cout << "[unified] refused as expected: " << error << "\n";
    } else {
      EXPECT_TRUE(error.empty()) << path_ << ": " << error;
    }
  }

 private:
  std::filesystem::path path_;
  Expect expect_;
};

// Every operation this runner maps is absent from the not-built table, and the reverse holds
// for the operations of the entity kinds: one place says what is skipped.
TEST(UnifiedRunnerTables, MappedOperationsAreNotListedAsNotBuilt) {
  for (const auto& name : mapped_operations()) {
    EXPECT_TRUE(reason_in(kNotBuiltOperations, name).empty())
        << name << " is mapped and listed as not built in skips.hpp";
  }
}

void register_tests() {
  const auto folders = test::spec_folders(
      "MONGOSLICE_UNIFIED_SPEC_DIRS",
      {"unified-test-format/tests/valid-pass", "unified-test-format/tests/valid-fail",
       "unified-test-format/tests/invalid", "crud/tests/unified",
       "command-logging-and-monitoring/tests/monitoring", "run-command/tests/unified"});
  const auto files = test::spec_files(folders, {});
  const auto targets = servers();
  std::set<std::string> used;
  auto unique = [&used](std::string suite, std::string name) {
    std::string candidate = name;
    for (int i = 2; !used.insert(suite + "." + candidate).second; ++i) {
      candidate = name + "_" + std::to_string(i);
    }
    return candidate;
  };
  for (const auto& f : files) {
    const std::string key = file_key(f.path);
    const std::string suite = suite_of(key);
    const std::string folder = f.path.parent_path().filename().string();
    const std::string stem = short_name(f.path.stem().string(), 80);
    if (folder == "invalid") {
      const std::string name = unique(suite, stem);
      ::testing::RegisterTest(
          suite.c_str(), name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
          [p = f.path]() -> ::testing::Test* { return new SchemaTest(p, Expect::kSchemaError); });
      continue;
    }
    std::shared_ptr<bson::Document> doc;
    std::string error;
    try {
      doc =
          std::make_shared<bson::Document>(bson::Document::from_json(test::read_text_file(f.path)));
      error = check_schema(*doc);
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (!error.empty() || !doc) {
      // Reported by a test of its own, which fails.
      const std::string name = unique(suite, stem + "__schema");
      ::testing::RegisterTest(
          suite.c_str(), name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
          [p = f.path]() -> ::testing::Test* { return new SchemaTest(p, Expect::kPass); });
      continue;
    }
    const Expect expect = folder == "valid-fail" ? Expect::kFail : Expect::kPass;
    std::size_t index = 0;
    for (bson::Element t : (*doc)["tests"].get_array()) {
      const std::string description(t.get_document()["description"].get_string());
      const std::string base = unique(suite, stem + "__" + short_name(description));
      for (const auto& server : targets) {
        const std::string name = base + "/" + server.name;
        TestCase tc{key, doc, index, description};
        ::testing::RegisterTest(suite.c_str(), name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                                [tc, server, expect]() -> ::testing::Test* {
                                  return new UnifiedTest(tc, server, expect);
                                });
      }
      ++index;
    }
  }
}

}  // namespace
}  // namespace mongoslice::unified

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  mongoslice::unified::register_tests();
  return RUN_ALL_TESTS();
}
