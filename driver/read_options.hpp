#pragma once
// Options of Collection's aggregate, distinct, count_documents, estimated_document_count and
// find_one_and_* operations, named after the operation with the CRUD spec's fields in
// snake_case. Plain data: a field left empty is not sent, so the server's default applies.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cursor/cursor.hpp"
#include "driver/handle_options.hpp"
#include "driver/write_options.hpp"  // Hint, Comment
#include "wire/bson.hpp"

namespace mongoslice {

// max_time is the command's maxTimeMS (>= 0) everywhere below.

struct AggregateOptions {
  std::optional<bool> allow_disk_use;
  std::int32_t batch_size = 0;  // >= 0; 0: the server's default. Not sent with $out / $merge.
  std::optional<bool> bypass_document_validation;  // with $out / $merge
  std::optional<bson::Document> collation;
  std::optional<std::chrono::milliseconds> max_time;
  // maxTimeMS of the getMore of a tailable await cursor ($changeStream). mongoslice's Cursor
  // sends no maxTimeMS on getMore yet, so setting it is refused (invalid_argument).
  std::optional<std::chrono::milliseconds> max_await_time;
  std::optional<Hint> hint;
  std::optional<bson::Document> let;
  std::optional<Comment> comment;
};

// Options of Collection::count_documents.
struct CountOptions {
  std::optional<bson::Document> collation;
  std::optional<Hint> hint;
  std::optional<std::int64_t> limit;  // >= 0; 0: no limit
  std::optional<std::int64_t> skip;   // >= 0
  std::optional<std::chrono::milliseconds> max_time;
  std::optional<Comment> comment;
};

// Options of Collection::estimated_document_count.
struct EstimatedDocumentCountOptions {
  std::optional<std::chrono::milliseconds> max_time;
  std::optional<Comment> comment;
};

// Options of Collection::distinct.
struct DistinctOptions {
  std::optional<bson::Document> collation;
  std::optional<std::chrono::milliseconds> max_time;
  std::optional<Comment> comment;
  std::optional<Hint> hint;
};

// Which document find_one_and_update / find_one_and_replace return.
enum class ReturnDocument { kBefore, kAfter };

struct FindOneAndUpdateOptions {
  std::vector<bson::Document> array_filters;
  std::optional<bool> bypass_document_validation;
  std::optional<bson::Document> collation;
  std::optional<std::chrono::milliseconds> max_time;
  std::optional<bson::Document> projection;
  ReturnDocument return_document = ReturnDocument::kBefore;
  std::optional<bson::Document> sort;
  bool upsert = false;
  std::optional<Hint> hint;
  std::optional<bson::Document> let;
  std::optional<Comment> comment;
};

// Options of Collection::find_one_and_replace (as FindOneAndUpdateOptions, without array filters).
struct FindOneAndReplaceOptions {
  std::optional<bool> bypass_document_validation;
  std::optional<bson::Document> collation;
  std::optional<std::chrono::milliseconds> max_time;
  std::optional<bson::Document> projection;
  ReturnDocument return_document = ReturnDocument::kBefore;
  std::optional<bson::Document> sort;
  bool upsert = false;
  std::optional<Hint> hint;
  std::optional<bson::Document> let;
  std::optional<Comment> comment;
};

// Options of Collection::find_one_and_delete.
struct FindOneAndDeleteOptions {
  std::optional<bson::Document> collation;
  std::optional<std::chrono::milliseconds> max_time;
  std::optional<bson::Document> projection;
  std::optional<bson::Document> sort;
  std::optional<Hint> hint;
  std::optional<bson::Document> let;
  std::optional<Comment> comment;
};

class ClientCore;
class ClientSessionState;

namespace detail {

// Internal, shared by Collection::aggregate and Database::aggregate (defined in
// driver/collection_read.cpp): runs the aggregate on `collection` of `db` (nullopt:
// {aggregate: 1}), a write with `write_concern` when the pipeline ends in $out or $merge (and
// `read_concern` on MongoDB 4.2+), otherwise a read by `read_preference` with `read_concern`, and
// returns the cursor. Throws
// Error(errc::invalid_argument) for a malformed pipeline or option before anything is sent.
Cursor run_aggregate(ClientCore& core, const std::string& db,
                     std::optional<std::string_view> collection, bson::View pipeline,
                     const AggregateOptions& options, const ReadPreference& read_preference,
                     const ReadConcern& read_concern, const WriteConcern& write_concern,
                     ClientSessionState* session);
// The same on the async engine; the cursor iterates with async_next only.
boost::asio::awaitable<Cursor> co_run_aggregate(std::shared_ptr<ClientCore> core, std::string db,
                                                std::optional<std::string> collection,
                                                bson::View pipeline, AggregateOptions options,
                                                ReadPreference read_preference,
                                                ReadConcern read_concern,
                                                WriteConcern write_concern,
                                                std::shared_ptr<ClientSessionState> session);

}  // namespace detail
}  // namespace mongoslice
