// api_tour --uri URI: the README's tour of the API, as a program that runs (and compiles in CI,
// so the README cannot drift from the API).
#include <iostream>

#include "examples/cli.hpp"
#include "mongoslice.hpp"

using namespace mongoslice;

namespace {

struct Log : EventListener {
  void on(const CommandSucceededEvent& e) override {
    std::cout << "  [event] " << e.command_name << " on " << e.address.to_string() << " took "
              << e.duration.count() << " ns\n";
  }
  void on(const CursorsDroppedEvent& e) override {
    std::cout << "  [event] " << e.cursor_ids.size() << " cursor(s) dropped: " << e.reason << "\n";
  }
};

void tour(const std::string& uri) {
  MongoClient client{uri, ClientOptions{.listeners = {std::make_shared<Log>()}}};
  Collection users = client["app"]["users"];
  users.drop();

  users.insert_one(bson::Builder{}.append("name", "ada").append("age", 36).build());
  users.insert_many({bson::Document::from_json(R"({"name": "alan", "age": 41})"),
                     bson::Document::from_json(R"({"name": "grace", "age": 85})")});

  for (bson::View doc :
       users.find(bson::Document::from_json(R"({"age": {"$gt": 40}})"),
                  {.sort = bson::Document::from_json(R"({"age": 1})"), .batch_size = 100})) {
    std::cout << doc["name"].get_string() << " " << doc["age"].as_int64() << "\n";
  }

  std::optional<bson::Document> ada =
      users.find_one(bson::Document::from_json(R"({"name": "ada"})"));
  std::cout << "find_one: " << (ada ? ada->to_json() : "none") << "\n";
  std::cout << "count: " << users.count_documents({}) << "\n";
  UpdateResult updated = users.update_one(bson::Document::from_json(R"({"name": "ada"})"),
                                          bson::Document::from_json(R"({"$inc": {"age": 1}})"));
  std::cout << "update_one: matched " << updated.matched_count << ", modified "
            << updated.modified_count << "\n";
  UpdateResult upserted =
      users.update_one(bson::Document::from_json(R"({"name": "edsger"})"),
                       bson::Document::from_json(R"({"$set": {"age": 72}})"), {.upsert = true});
  std::cout << "upserted: " << (upserted.upserted_id ? upserted.upserted_id->to_json() : "none")
            << "\n";
  DeleteResult deleted = users.delete_many(bson::Document::from_json(R"({"age": {"$lt": 18}})"));
  std::cout << "deleted: " << deleted.deleted_count << "\n";
  for (const std::string& name : client["app"].list_collection_names()) {
    std::cout << "collection: " << name << "\n";
  }
  bson::Document reply = client["admin"].run_command(bson::Builder{}.append("ping", 1).build());
  std::cout << "ping: " << reply.to_json() << "\n";

  // Aggregation, findAndModify, bulk writes and indexes.
  for (bson::View group : users.aggregate(bson::Document::from_json(
           R"([{"$match": {"age": {"$gt": 40}}}, {"$group": {"_id": null, "n": {"$sum": 1}}}])"))) {
    std::cout << "over 40: " << group["n"].as_int64() << "\n";
  }
  std::optional<bson::Document> after =
      users.find_one_and_update(bson::Document::from_json(R"({"name": "ada"})"),
                                bson::Document::from_json(R"({"$inc": {"age": 1}})"),
                                {.return_document = ReturnDocument::kAfter});
  std::cout << "ada is now " << (after ? (*after)["age"].as_int64() : -1) << "\n";
  BulkWriteResult bulk = users.bulk_write(std::vector<WriteModel>{
      InsertOneModel{bson::Document::from_json(R"({"name": "barbara", "age": 86})")},
      DeleteManyModel{bson::Document::from_json(R"({"name": "edsger"})"), {}}});
  std::cout << "bulk_write: inserted " << bulk.inserted_count << ", deleted " << bulk.deleted_count
            << "\n";
  std::string index = users.create_index(bson::Document::from_json(R"({"age": 1})"));
  std::cout << "index: " << index << "\n";

  // Write concern, read concern and read preference come from the URI and can be overridden on
  // a handle.
  Collection durable = users.with_options({.write_concern = WriteConcern{.w = "majority"}});
  durable.insert_one(bson::Document::from_json(R"({"name": "john", "age": 1})"));

  {
    Cursor cursor = users.find({}, {.batch_size = 1});
    auto first = *cursor.begin();  // read one document...
    std::cout << "abandoning cursor " << cursor.id() << " after " << first["name"].get_string()
              << "\n";
  }  // ...and drop the cursor: killCursors goes out now
}

}  // namespace

int main(int argc, char** argv) {
  try {
    examples::Args args(argc, argv, {"uri"});
    tour(examples::uri_from(args));
    return 0;
  } catch (const std::invalid_argument& e) {
    std::cerr << "usage: api_tour --uri URI " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "api_tour: error: " << examples::one_line(e.what()) << "\n";
    return 1;
  }
}
