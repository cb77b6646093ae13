#include "driver/collection.hpp"

#include <algorithm>

#include "driver/client_core.hpp"
#include "ops/commands.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

// Limits of one insert command: the server's default maxWriteBatchSize, and the message size
// less room for the command body and headers.
constexpr std::size_t kMaxBatchCount = 100'000;
constexpr std::size_t kMaxBatchBytes = wire::kDefaultMaxMessageSize - 16 * 1024;

// The document with an _id in front when it has none.
bson::Document with_id(bson::View document) {
  if (document.contains("_id")) return bson::Document(document);
  bson_oid_t oid;
  bson_oid_init(&oid, nullptr);
  return bson::Builder{}.append("_id", oid).concat(document).build();
}

std::vector<WriteErrorDetail> to_details(const wire::WriteReply& reply, std::int64_t offset) {
  std::vector<WriteErrorDetail> out;
  out.reserve(reply.write_errors.size());
  for (const auto& e : reply.write_errors) out.push_back({e.index + offset, e.code, e.errmsg});
  return out;
}

std::optional<WriteErrorDetail> to_detail(const std::optional<wire::WriteConcernError>& e) {
  if (!e) return std::nullopt;
  return WriteErrorDetail{0, e->code, e->errmsg};
}

}  // namespace

bson::Document Collection::insert_one(bson::View document) const {
  bson::Document doc = with_id(document);
  bson::View view = doc.view();
  insert_many(std::span<const bson::View>(&view, 1));
  return bson::Builder{}.append("_id", doc["_id"]).build();
}

std::int64_t Collection::insert_many(const std::vector<bson::Document>& documents) const {
  std::vector<bson::View> views;
  views.reserve(documents.size());
  for (const auto& d : documents) views.push_back(d.view());
  return insert_many(views);
}

std::int64_t Collection::insert_many(std::span<const bson::View> documents) const {
  if (documents.empty()) throw Error(errc::invalid_argument, "insert_many of no documents");
  // Documents without _id get one; keep the copies alive while their batch is sent.
  std::vector<bson::Document> owned;
  std::vector<bson::View> views;
  views.reserve(documents.size());
  for (bson::View d : documents) {
    if (d.contains("_id")) {
      views.push_back(d);
    } else {
      owned.push_back(with_id(d));
      views.push_back(bson::View());  // filled below, once `owned` no longer reallocates
    }
  }
  for (std::size_t i = 0, k = 0; i < views.size(); ++i) {
    if (!documents[i].contains("_id")) views[i] = owned[k++].view();
  }

  const bson::Document command = wire::make_insert(db_, name_, /*ordered=*/true);
  std::int64_t inserted = 0;
  std::size_t begin = 0;
  while (begin < views.size()) {
    std::size_t end = begin, bytes = 0;
    while (end < views.size() && end - begin < kMaxBatchCount &&
           (end == begin || bytes + views[end].size() <= kMaxBatchBytes)) {
      bytes += views[end].size();
      ++end;
    }
    wire::DocumentSequence sequence{wire::kInsertDocuments,
                                    std::span<const bson::View>(views).subspan(begin, end - begin)};
    auto reply = core_->run_write(db_, command, {&sequence, 1}).reply;
    auto parsed = wire::parse_write_reply(reply);
    inserted += parsed.n;
    if (!parsed.write_errors.empty() || parsed.write_concern_error) {
      throw BulkWriteError(to_details(parsed, static_cast<std::int64_t>(begin)),
                           to_detail(parsed.write_concern_error), inserted, 0);
    }
    begin = end;
  }
  return inserted;
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

std::int64_t Collection::delete_many(bson::View filter) const {
  auto reply = core_->run_write(db_, wire::make_delete(db_, name_, filter, false)).reply;
  auto parsed = wire::parse_write_reply(reply);
  if (!parsed.write_errors.empty() || parsed.write_concern_error) {
    throw BulkWriteError(to_details(parsed, 0), to_detail(parsed.write_concern_error), 0, parsed.n);
  }
  return parsed.n;
}

std::int64_t Collection::count_documents(bson::View filter) const {
  auto reply = core_->run_read(db_, wire::make_count_aggregate(db_, name_, filter)).reply;
  return wire::parse_count_aggregate_reply(reply);
}

void Collection::drop() const {
  try {
    core_->run_write(db_, wire::make_drop(db_, name_));
  } catch (const ServerError& e) {
    // A missing collection is already dropped. Servers say so with NamespaceNotFound (26);
    // older ones and mongo-java-server may give only the message.
    if (e.server_code() != server_code::kNamespaceNotFound &&
        e.errmsg().find("ns not found") == std::string::npos)
      throw;
  }
}

}  // namespace mongoslice
