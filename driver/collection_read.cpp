// Collection's read operations: find, find_one, count_documents, estimated_document_count,
// distinct, aggregate and the find_one_and_* family (findAndModify).
#include <algorithm>

#include "driver/client_core.hpp"
#include "driver/collection.hpp"
#include "driver/operation_engine.hpp"
#include "ops/commands.hpp"
#include "wire/error.hpp"

namespace mongoslice {

const ReadPreference& Collection::read_preference() const noexcept {
  return options_.read_preference ? *options_.read_preference : core_->uri().read_preference;
}

const WriteConcern& Collection::write_concern() const noexcept {
  static const WriteConcern server_default;
  return options_.write_concern ? *options_.write_concern : server_default;
}

const ReadConcern& Collection::read_concern() const noexcept {
  static const ReadConcern server_default;
  return options_.read_concern ? *options_.read_concern : server_default;
}

Cursor Collection::find(bson::View filter, const FindOptions& options) const {
  if (options.skip < 0) throw Error(errc::invalid_argument, "find: skip must be >= 0");
  if (options.batch_size < 0) throw Error(errc::invalid_argument, "find: batch_size must be >= 0");
  wire::FindOptions find;
  find.filter = filter;
  if (options.projection) find.projection = options.projection->view();
  if (options.sort) find.sort = options.sort->view();
  if (options.skip > 0) find.skip = options.skip;
  if (options.limit != 0) find.limit = options.limit < 0 ? -options.limit : options.limit;
  find.single_batch = options.limit < 0;
  if (options.batch_size > 0) {
    // The first batch never needs to be larger than the limit.
    std::int64_t first = options.batch_size;
    if (options.limit != 0) first = std::min<std::int64_t>(first, find.limit.value());
    find.batch_size = static_cast<std::int32_t>(first);
  }
  auto ran = core_->run_read(db_, wire::make_find(db_, name_, find));
  return core_->make_cursor(std::move(ran.reply), {options.batch_size, options.limit}, ran.server);
}

std::optional<bson::Document> Collection::find_one(bson::View filter, FindOptions options) const {
  options.limit = -1;
  options.batch_size = 0;
  Cursor cursor = find(filter, options);
  for (bson::View doc : cursor) return bson::Document(doc);
  return std::nullopt;
}

std::int64_t Collection::count_documents(bson::View filter, const CountOptions&) const {
  auto op = ops::single_command<std::int64_t>(
      ops::OperationKind::kRead, db_, wire::make_count_aggregate(db_, name_, filter),
      [](const bson::Document& reply) { return wire::parse_count_aggregate_reply(reply.view()); });
  return execute(*core_, op, read_preference()).result;
}

}  // namespace mongoslice
