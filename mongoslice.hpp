#pragma once
// The public API of mongoslice in one include:
//
//   #include <mongoslice.hpp>
//
//   mongoslice::MongoClient client{"mongodb://localhost:27017/?appName=demo"};
//   auto coll = client["db"]["coll"];
//   for (mongoslice::bson::View doc : coll.find({}, {.batch_size = 100})) { ... }

#include "cursor/cursor.hpp"             // IWYU pragma: export
#include "driver/client_options.hpp"     // IWYU pragma: export
#include "driver/collection.hpp"         // IWYU pragma: export
#include "driver/connection_string.hpp"  // IWYU pragma: export
#include "driver/database.hpp"           // IWYU pragma: export
#include "driver/events.hpp"             // IWYU pragma: export
#include "driver/find_options.hpp"       // IWYU pragma: export
#include "driver/mongo_client.hpp"       // IWYU pragma: export
#include "driver/write_error.hpp"        // IWYU pragma: export
#include "driver/write_options.hpp"      // IWYU pragma: export
#include "ops/read_preference.hpp"       // IWYU pragma: export
#include "wire/bson.hpp"                 // IWYU pragma: export
#include "wire/error.hpp"                // IWYU pragma: export
