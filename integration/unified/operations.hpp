#pragma once
// The unified format's operations on client, database and collection entities, mapped to
// mongoslice's API (driver/mongo_client.hpp, driver/database.hpp, driver/collection.hpp).
// testRunner operations are the runner's own (runner.cpp).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "unified/entities.hpp"
#include "unified/value.hpp"

namespace mongoslice::unified {

// What an operation returned: a value, or nothing (an operation without a result).
using OperationResult = std::optional<Value>;

// Runs operation `name` on the entity `object` with `arguments`. Throws what mongoslice throws
// (Error, ServerError, BulkWriteError), TestFailure for a malformed operation (a missing
// required argument, an argument the format does not define for it, a wrong type, an entity of
// the wrong kind) and Unsupported for an operation, argument or value that is not built (see
// skips.hpp). An operation the format does not define is a TestFailure.
OperationResult run_entity_operation(EntityMap& entities, const std::string& object,
                                     const std::string& name, bson::View arguments);

// A BulkWriteResult as the CRUD spec shapes it (insertedCount, matchedCount, modifiedCount,
// deletedCount, upsertedCount, upsertedIds and insertedIds by request index): the result of
// bulkWrite and the partial result of a BulkWriteError.
Value bulk_write_result_value(const BulkWriteResult& result);

// The operation names mapped here (for the table-consistency test).
std::vector<std::string> mapped_operations();

}  // namespace mongoslice::unified
