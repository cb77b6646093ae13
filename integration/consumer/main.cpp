// consumer URI: inserts, finds and counts through the installed mongoslice, and prints "ok".
#include <mongoslice.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer URI\n");
    return 2;
  }
  try {
    mongoslice::MongoClient client(argv[1]);
    auto coll = client["consumer_test"]["items"];
    coll.drop();
    for (int i = 0; i < 10; ++i) {
      coll.insert_one(mongoslice::bson::Builder{}.append("i", i).build());
    }
    int seen = 0;
    for (mongoslice::bson::View doc : coll.find({}, {.batch_size = 3})) {
      if (doc["i"].get_int32() != seen++) return 1;
    }
    if (seen != 10 || coll.count_documents({}) != 10) return 1;
    std::printf("ok\n");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return 1;
  }
}
