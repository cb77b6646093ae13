// Collection's writes split by the limits the server announces in its handshake, against a
// scripted server on loopback: which commands arrive, with how many statements each, how the
// server's error indexes map back to the caller's positions, and that an oversized document is
// refused before it is sent.

#include <gtest/gtest.h>

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "driver/mongo_client.hpp"
#include "support/loopback_peer.hpp"
#include "wire/error.hpp"
#include "wire/op_msg.hpp"

namespace mongoslice {
namespace {

using bson::Document;

Document json(std::string_view text) {
  return Document::from_json(text);
}

// A write command as the server received it.
struct Received {
  std::string name;
  Document body;
  std::vector<Document> statements;  // the document sequence
  std::size_t message_size = 0;
};

// {ok: 1, n: <statements>} (nModified too for update).
Document all_ok(const Received& r) {
  bson::Builder b;
  b.append("n", static_cast<std::int32_t>(r.statements.size()));
  if (r.name == "update") b.append("nModified", static_cast<std::int32_t>(r.statements.size()));
  return b.append("ok", 1.0).build();
}

// A standalone whose handshake announces `limits` and which answers each insert, update and
// delete with `answer` (given the command and how many write commands came before it).
class WriteServer {
 public:
  using Answer = std::function<Document(const Received&, std::size_t)>;

  explicit WriteServer(
      Document hello, Answer answer = [](const Received& r, std::size_t) { return all_ok(r); })
      : hello_(std::move(hello)),
        answer_(std::move(answer)),
        server_([this](testing::PeerStream& s, int) { serve(s); }) {}

  std::string uri() const {
    return "mongodb://" + server_.address().to_string() +
           "/?directConnection=true&serverSelectionTimeoutMS=5000&heartbeatFrequencyMS=60000";
  }
  std::vector<Received> writes() const {
    std::lock_guard lock(mutex_);
    return writes_;
  }

 private:
  void serve(testing::PeerStream& s) {
    for (;;) {
      auto request = s.read_message();
      if (testing::opcode_of(request) == wire::kOpQuery) {  // the handshake
        s.write(testing::reply_to(request, hello_));
        continue;
      }
      const auto copy = request;
      Received received;
      received.message_size = request.size();
      wire::OpMsg message;
      if (auto ec = wire::decode_op_msg(std::move(request), 0, 64 * 1024 * 1024, message))
        throw std::runtime_error("request does not decode: " + ec.message());
      received.body = Document(message.body());
      received.name = std::string((*received.body.view().begin()).key());
      for (const auto& sequence : message.sequences()) {
        for (bson::View d : sequence.documents) received.statements.emplace_back(d);
      }
      if (received.name == "hello" || received.name == "isMaster" || received.name == "ismaster") {
        s.write(testing::reply_to(copy, hello_));
      } else if (received.name == "insert" || received.name == "update" ||
                 received.name == "delete") {
        std::size_t before;
        {
          std::lock_guard lock(mutex_);
          before = writes_.size();
          writes_.push_back(received);
        }
        s.write(testing::reply_to(copy, answer_(received, before)));
      } else {
        s.write(testing::reply_to(copy, bson::Builder{}.append("ok", 1.0).build()));
      }
    }
  }

  Document hello_;
  Answer answer_;
  mutable std::mutex mutex_;
  std::vector<Received> writes_;
  testing::LoopbackServer server_;
};

Document hello_with(std::int32_t max_batch, std::int32_t max_message,
                    std::int32_t max_bson = 16 * 1024 * 1024) {
  return bson::Builder{}
      .append("isWritablePrimary", true)
      .append("helloOk", true)
      .append("maxBsonObjectSize", max_bson)
      .append("maxMessageSizeBytes", max_message)
      .append("maxWriteBatchSize", max_batch)
      .append("minWireVersion", 0)
      .append("maxWireVersion", 21)
      .append("ok", 1.0)
      .build();
}

std::vector<Document> numbered(int n, std::size_t filler = 0) {
  std::vector<Document> docs;
  for (int i = 0; i < n; ++i)
    docs.push_back(bson::Builder{}.append("_id", i).append("s", std::string(filler, 'x')).build());
  return docs;
}

std::vector<std::size_t> counts_of(const std::vector<Received>& writes) {
  std::vector<std::size_t> counts;
  for (const auto& w : writes) counts.push_back(w.statements.size());
  return counts;
}

// A reply failing the statement at `local` of the command (the server goes on unless ordered).
Document failing_at(const Received& r, std::int32_t local, bool ordered) {
  const auto n = static_cast<std::int32_t>(ordered ? local : r.statements.size() - 1);
  const Document error = bson::Builder{}
                             .append("index", local)
                             .append("code", 11000)
                             .append("errmsg", "E11000 duplicate key")
                             .build();
  return bson::Builder{}
      .append("n", n)
      .open_array("writeErrors")
      .append_value(error.view())
      .close()
      .append("ok", 1.0)
      .build();
}

TEST(WriteBatching, InsertManySplitsByTheHandshakesMaxWriteBatchSize) {
  WriteServer server(hello_with(3, 48'000'000));
  MongoClient client(server.uri());
  auto docs = numbered(10);
  auto result = client["db"]["c"].insert_many(docs);
  EXPECT_EQ(result.inserted_count, 10);
  ASSERT_EQ(result.inserted_ids.size(), 10u);
  EXPECT_EQ(result.inserted_ids.at(9), json(R"({"_id": 9})"));
  auto writes = server.writes();
  EXPECT_EQ(counts_of(writes), (std::vector<std::size_t>{3, 3, 3, 1}));
  // In order: the fourth command holds the tenth document.
  ASSERT_EQ(writes.size(), 4u);
  EXPECT_EQ(writes[3].statements[0], docs[9]);
  EXPECT_EQ(writes[1].statements[0], docs[3]);
  EXPECT_EQ(writes[0].body["insert"].get_string(), "c");
}

TEST(WriteBatching, EveryCommandFitsTheHandshakesMaxMessageSizeBytes) {
  constexpr std::int32_t kMaxMessage = 8000;
  WriteServer server(hello_with(100'000, kMaxMessage));
  MongoClient client(server.uri());
  auto docs = numbered(30, 1000);
  EXPECT_EQ(client["db"]["c"].insert_many(docs).inserted_count, 30);
  auto writes = server.writes();
  ASSERT_GE(writes.size(), 5u);  // 30 kB do not go in fewer 8 kB messages
  std::size_t total = 0;
  for (const auto& w : writes) {
    EXPECT_LE(w.message_size, static_cast<std::size_t>(kMaxMessage));
    total += w.statements.size();
  }
  EXPECT_EQ(total, 30u);
}

TEST(WriteBatching, UnorderedErrorIndexesAreThePositionsInTheCallersInput) {
  // Each command's second statement fails; the server goes on.
  WriteServer server(hello_with(3, 48'000'000),
                     [](const Received& r, std::size_t) { return failing_at(r, 1, false); });
  MongoClient client(server.uri());
  auto docs = numbered(8);
  try {
    client["db"]["c"].insert_many(docs, {.ordered = false});
    FAIL() << "no BulkWriteError";
  } catch (const BulkWriteError& e) {
    std::vector<std::int64_t> indexes;
    for (const auto& w : e.write_errors()) indexes.push_back(w.index);
    EXPECT_EQ(indexes, (std::vector<std::int64_t>{1, 4, 7}));
    EXPECT_EQ(e.server_code(), 11000);
    EXPECT_EQ(e.partial_result().inserted_count, 5);
    std::vector<std::int64_t> inserted;
    for (const auto& [index, id] : e.partial_result().inserted_ids) inserted.push_back(index);
    EXPECT_EQ(inserted, (std::vector<std::int64_t>{0, 2, 3, 5, 6}));
  }
  auto writes = server.writes();
  EXPECT_EQ(counts_of(writes), (std::vector<std::size_t>{3, 3, 2}));
  EXPECT_FALSE(writes[0].body["ordered"].get_bool());
}

TEST(WriteBatching, OrderedStopsAtTheFirstErrorWithItsPositionAndThePartialResult) {
  WriteServer server(hello_with(3, 48'000'000), [](const Received& r, std::size_t before) {
    return before == 1 ? failing_at(r, 2, true) : all_ok(r);
  });
  MongoClient client(server.uri());
  auto docs = numbered(9);
  try {
    client["db"]["c"].insert_many(docs);
    FAIL() << "no BulkWriteError";
  } catch (const BulkWriteError& e) {
    ASSERT_EQ(e.write_errors().size(), 1u);
    EXPECT_EQ(e.index(), 5);
    EXPECT_EQ(e.inserted_count(), 5);
    EXPECT_EQ(e.partial_result().inserted_ids.size(), 5u);
    EXPECT_FALSE(e.partial_result().inserted_ids.contains(5));
  }
  EXPECT_EQ(server.writes().size(), 2u);  // the third batch is never sent
}

TEST(WriteBatching, BulkWriteSendsEachRunOfOneKindInBatchesAndKeysUpsertsByRequestIndex) {
  WriteServer server(hello_with(2, 48'000'000), [](const Received& r, std::size_t before) {
    if (before == 2) {  // the second update command: requests 4 and 5; 5 upserts
      return json(R"({"n": 2, "nModified": 1, "upserted": [{"index": 1, "_id": "new"}],
                      "ok": 1})");
    }
    return all_ok(r);
  });
  MongoClient client(server.uri());
  std::vector<WriteModel> requests;
  requests.push_back(InsertOneModel{json(R"({"_id": 1})")});
  requests.push_back(UpdateOneModel{json(R"({"_id": 1})"), json(R"({"$set": {"a": 1}})")});
  requests.push_back(UpdateManyModel{json("{}"), json(R"({"$inc": {"a": 1}})")});
  requests.push_back(ReplaceOneModel{json(R"({"_id": 1})"), json(R"({"b": 1})")});
  requests.push_back(
      UpdateOneModel{json(R"({"_id": 2})"), json(R"({"$set": {"a": 2}})"), {.upsert = true}});
  requests.push_back(DeleteOneModel{json(R"({"_id": 1})")});
  requests.push_back(DeleteManyModel{json("{}")});
  auto result = client["db"]["c"].bulk_write(requests);
  auto writes = server.writes();
  std::vector<std::string> names;
  for (const auto& w : writes) names.push_back(w.name);
  EXPECT_EQ(names, (std::vector<std::string>{"insert", "update", "update", "delete"}));
  EXPECT_EQ(counts_of(writes), (std::vector<std::size_t>{1, 2, 2, 2}));
  ASSERT_EQ(writes.size(), 4u);
  EXPECT_TRUE(writes[1].statements[1]["multi"].get_bool());   // update_many
  EXPECT_EQ(writes[3].statements[1]["limit"].as_int64(), 0);  // delete_many
  EXPECT_EQ(result.inserted_count, 1);
  EXPECT_EQ(result.matched_count, 3);
  EXPECT_EQ(result.modified_count, 3);
  EXPECT_EQ(result.upserted_count, 1);
  ASSERT_EQ(result.upserted_ids.size(), 1u);
  EXPECT_EQ(result.upserted_ids.at(4), json(R"({"_id": "new"})"));
  EXPECT_EQ(result.deleted_count, 2);
}

TEST(WriteBatching, DocumentsOverMaxBsonObjectSizeAreNeverSent) {
  WriteServer server(testing::standard_hello_reply());  // 16 MiB
  MongoClient client(server.uri());
  auto coll = client["db"]["c"];
  for (std::size_t size : {16u * 1024 * 1024 + 1024, 17u * 1024 * 1024}) {
    const Document big = bson::Builder{}.append("s", std::string(size, 'x')).build();
    try {
      coll.insert_one(big);
      ADD_FAILURE() << "insert_one of " << size << " bytes accepted";
    } catch (const BulkWriteError& e) {
      ADD_FAILURE() << e.what();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), errc::invalid_argument) << e.what();
      EXPECT_NE(std::string(e.what()).find("maxBsonObjectSize"), std::string::npos) << e.what();
    }
    std::vector<Document> docs = numbered(2);
    docs.push_back(big);
    try {
      coll.insert_many(docs);
      ADD_FAILURE() << "insert_many with " << size << " bytes accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), errc::invalid_argument) << e.what();
      EXPECT_NE(std::string(e.what()).find("write 2"), std::string::npos) << e.what();
    }
    try {
      coll.replace_one(json("{}"), big);
      ADD_FAILURE() << "replace_one with " << size << " bytes accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), errc::invalid_argument) << e.what();
    }
  }
  EXPECT_TRUE(server.writes().empty()) << server.writes().size() << " write commands arrived";
}

TEST(WriteBatching, EveryWriteCarriesTheHandlesWriteConcern) {
  WriteServer server(testing::standard_hello_reply());
  MongoClient client(server.uri());
  WriteConcern majority;
  majority.w = std::string("majority");
  auto coll = client["db"]["c"].with_options({.write_concern = majority});
  coll.insert_one(json(R"({"_id": 1})"));
  coll.update_one(json("{}"), json(R"({"$set": {"a": 1}})"));
  coll.delete_many(json("{}"));
  std::vector<WriteModel> requests;
  requests.push_back(InsertOneModel{json(R"({"_id": 2})")});
  coll.bulk_write(requests);
  auto writes = server.writes();
  ASSERT_EQ(writes.size(), 4u);
  for (const auto& w : writes)
    EXPECT_EQ(Document(w.body["writeConcern"].get_document()), json(R"({"w": "majority"})"))
        << w.body.to_json();
  // The client's default is the server's: nothing is sent.
  client["db"]["c"].insert_one(json(R"({"_id": 3})"));
  EXPECT_FALSE(server.writes().back().body.view().contains("writeConcern"));
}

TEST(WriteBatching, AnUnacknowledgedWriteIsSentAndSaysItsCountsAreUnknown) {
  WriteServer server(testing::standard_hello_reply(),
                     [](const Received&, std::size_t) { return json(R"({"ok": 1})"); });
  MongoClient client(server.uri());
  WriteConcern unacknowledged;
  unacknowledged.w = std::int32_t{0};
  auto coll = client["db"]["c"].with_options({.write_concern = unacknowledged});
  auto one = coll.insert_one(json(R"({"_id": 1})"));
  EXPECT_FALSE(one.acknowledged);
  EXPECT_EQ(one.inserted_id, json(R"({"_id": 1})"));
  auto many = coll.insert_many(numbered(3));
  EXPECT_FALSE(many.acknowledged);
  EXPECT_EQ(many.inserted_count, 0);
  EXPECT_EQ(many.inserted_ids.size(), 3u);  // the ids sent
  auto updated = coll.update_many(json("{}"), json(R"({"$set": {"a": 1}})"));
  EXPECT_FALSE(updated.acknowledged);
  EXPECT_FALSE(coll.delete_many(json("{}")).acknowledged);
  auto writes = server.writes();
  ASSERT_EQ(writes.size(), 4u);
  EXPECT_EQ(Document(writes[0].body["writeConcern"].get_document()), json(R"({"w": 0})"));
}

TEST(WriteBatching, EmptyInputIsRefusedBeforeAnythingIsSent) {
  WriteServer server(testing::standard_hello_reply());
  MongoClient client(server.uri());
  auto coll = client["db"]["c"];
  EXPECT_THROW(coll.insert_many(std::vector<Document>{}), Error);
  EXPECT_THROW(coll.bulk_write(std::vector<WriteModel>{}), Error);
  EXPECT_TRUE(server.writes().empty());
}

}  // namespace
}  // namespace mongoslice
