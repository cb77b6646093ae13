// ops/concerns: the writeConcern / readConcern a command carries (nothing for the server's
// default), the concerns the spec forbids, and the read-write-concern spec's document tests
// (read-write-concern/tests/document), each case checked.

#include "ops/concerns.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "support/expect_error.hpp"
#include "support/ops_expectations.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using testing::json;

using std::chrono::milliseconds;
// {ping: 1} with the concern appended, then $db, as a builder in ops/ makes a command.
bson::Document with_write_concern(const WriteConcern& concern) {
  bson::Builder command;
  command.append("ping", 1);
  wire::append_write_concern(command, concern);
  command.append("$db", "app");
  return command.build();
}

bson::Document with_read_concern(const ReadConcern& concern) {
  bson::Builder command;
  command.append("ping", 1);
  wire::append_read_concern(command, concern);
  command.append("$db", "app");
  return command.build();
}

TEST(Concerns, TheServerDefaultIsNotSent) {
  EXPECT_EQ(with_write_concern({}), json(R"({"ping": 1, "$db": "app"})"));
  EXPECT_EQ(with_read_concern({}), json(R"({"ping": 1, "$db": "app"})"));
}

TEST(Concerns, WriteConcernFieldsAreSentAsGiven) {
  WriteConcern all;
  all.w = std::string("majority");
  all.journal = false;
  all.wtimeout = milliseconds(2500);
  const bson::Document command = with_write_concern(all);
  const bson::View wc = command["writeConcern"].get_document();
  EXPECT_EQ(wc["w"].get_string(), "majority");
  EXPECT_EQ(wc["j"].get_bool(), false);
  EXPECT_EQ(wc["wtimeout"].as_int64(), 2500);
  EXPECT_EQ(command["$db"].get_string(), "app");  // appended in place, the command goes on

  WriteConcern unacknowledged;
  unacknowledged.w = 0;
  EXPECT_EQ(with_write_concern(unacknowledged),
            json(R"({"ping": 1, "writeConcern": {"w": 0}, "$db": "app"})"));
  EXPECT_FALSE(unacknowledged.is_acknowledged());
  unacknowledged.journal = false;
  EXPECT_FALSE(unacknowledged.is_acknowledged());
}

TEST(Concerns, ReadConcernLevelIsSentAsGiven) {
  EXPECT_EQ(with_read_concern(ReadConcern{"snapshot"}),
            json(R"({"ping": 1, "readConcern": {"level": "snapshot"}, "$db": "app"})"));
}

TEST(Concerns, ForbiddenWriteConcernsAreRefusedWithoutAppending) {
  WriteConcern negative_w;
  negative_w.w = -1;
  WriteConcern negative_timeout;
  negative_timeout.wtimeout = milliseconds(-1);
  WriteConcern unacknowledged_journal;
  unacknowledged_journal.w = 0;
  unacknowledged_journal.journal = true;
  for (const auto& [concern, words] :
       {std::pair{negative_w, "w must be >= 0"}, std::pair{negative_timeout, "wtimeout"},
        std::pair{unacknowledged_journal, "w: 0 cannot be combined with j: true"}}) {
    SCOPED_TRACE(words);
    bson::Builder command;
    command.append("ping", 1);
    Error e = testing::expect_error([&] { wire::append_write_concern(command, concern); });
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    EXPECT_EQ(command.build(), json(R"({"ping": 1})"));  // nothing half-written
  }
}

// ---- the spec's document tests -------------------------------------------------------------

bson::Document spec_file(std::string_view name) {
  const std::string path = std::string(MONGOSLICE_SPEC_TESTS_DIR) +
                           "/read-write-concern/tests/document/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.empty()) ADD_FAILURE() << "cannot read " << path;
  return bson::Document::from_json(text.empty() ? "{\"tests\": []}" : text);
}

// Numbers compared by value: the spec's JSON gives int32, wtimeout goes out as int64.
void expect_same_fields(bson::View expected, bson::View actual) {
  std::size_t count = 0;
  for (const auto& field : actual) {
    ++count;
    auto e = expected.find(field.key());
    ASSERT_TRUE(e) << "unexpected field " << field.key();
    if (e->type() == bson::Type::kString) {
      EXPECT_EQ(field.get_string(), e->get_string()) << field.key();
    } else if (e->type() == bson::Type::kBool) {
      EXPECT_EQ(field.get_bool(), e->get_bool()) << field.key();
    } else {
      EXPECT_EQ(field.as_int64(), e->as_int64()) << field.key();
    }
  }
  std::size_t expected_count = 0;
  for ([[maybe_unused]] const auto& field : expected) ++expected_count;
  EXPECT_EQ(count, expected_count);
}

TEST(ConcernsSpec, WriteConcernDocuments) {
  const bson::Document file = spec_file("write-concern.json");
  int cases = 0;
  for (const auto& item : file["tests"].get_array()) {
    const bson::View test = item.get_document();
    SCOPED_TRACE(std::string(test["description"].get_string()));
    ++cases;
    WriteConcern concern;
    for (const auto& field : test["writeConcern"].get_document()) {
      if (field.key() == "w" && field.type() == bson::Type::kString) {
        concern.w = std::string(field.get_string());
      } else if (field.key() == "w") {
        concern.w = static_cast<std::int32_t>(field.as_int64());
      } else if (field.key() == "wtimeoutMS") {
        concern.wtimeout = milliseconds(field.as_int64());
      } else if (field.key() == "journal") {
        concern.journal = field.get_bool();
      } else {
        ADD_FAILURE() << "unknown writeConcern field " << field.key();
      }
    }
    bson::Builder command;
    if (!test["valid"].get_bool()) {
      Error e = testing::expect_error([&] { wire::append_write_concern(command, concern); });
      EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument)) << e.what();
      continue;
    }
    wire::append_write_concern(command, concern);
    const bson::Document built = command.build();
    const bson::View expected = test["writeConcernDocument"].get_document();
    if (expected.empty()) {
      EXPECT_TRUE(built.view().empty()) << built.to_json();
    } else {
      expect_same_fields(expected, built["writeConcern"].get_document());
    }
    EXPECT_EQ(concern.is_server_default(), test["isServerDefault"].get_bool());
    EXPECT_EQ(concern.is_acknowledged(), test["isAcknowledged"].get_bool());
  }
  EXPECT_EQ(cases, 14);
}

TEST(ConcernsSpec, ReadConcernDocuments) {
  const bson::Document file = spec_file("read-concern.json");
  int cases = 0;
  for (const auto& item : file["tests"].get_array()) {
    const bson::View test = item.get_document();
    SCOPED_TRACE(std::string(test["description"].get_string()));
    ++cases;
    ReadConcern concern;
    if (auto level = test["readConcern"].get_document().find("level")) {
      concern.level = std::string(level->get_string());
    }
    bson::Builder command;
    wire::append_read_concern(command, concern);
    const bson::Document built = command.build();
    const bson::View expected = test["readConcernDocument"].get_document();
    if (expected.empty()) {
      EXPECT_TRUE(built.view().empty()) << built.to_json();
    } else {
      expect_same_fields(expected, built["readConcern"].get_document());
    }
    EXPECT_EQ(concern.is_server_default(), test["isServerDefault"].get_bool());
  }
  EXPECT_EQ(cases, 6);
}

}  // namespace
}  // namespace mongoslice
