#include "driver/collection.hpp"

#include <algorithm>
#include <variant>

#include "driver/client_core.hpp"
#include "driver/names.hpp"
#include "driver/operation_engine.hpp"
#include "ops/commands.hpp"
#include "ops/write_ops.hpp"
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

Collection::Collection(std::shared_ptr<ClientCore> core, std::string db, std::string_view name,
                       HandleOptions options)
    : core_(std::move(core)), db_(std::move(db)), name_(name), options_(std::move(options)) {
  check_database_name(db_);
  check_collection_name(name_);
}

Collection Collection::with_options(const HandleOptions& overrides) const {
  return Collection(core_, db_, name_, options_.merged_with(overrides));
}

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

namespace {

wire::StringOrDocumentView view_of(
    const std::optional<std::variant<std::string, bson::Document>>& v) {
  if (!v) return std::monostate{};
  if (const auto* text = std::get_if<std::string>(&*v)) return std::string_view(*text);
  return std::get<bson::Document>(*v).view();
}

std::optional<bson::View> view_of(const std::optional<bson::Document>& document) {
  if (!document) return std::nullopt;
  return document->view();
}

template <typename Reply>
[[noreturn]] void throw_write_errors(const Reply& reply, std::int64_t deleted) {
  std::vector<WriteErrorDetail> details;
  details.reserve(reply.write_errors.size());
  for (const auto& e : reply.write_errors) details.push_back({e.index, e.code, e.errmsg});
  std::optional<WriteErrorDetail> concern;
  if (reply.write_concern_error) {
    concern =
        WriteErrorDetail{0, reply.write_concern_error->code, reply.write_concern_error->errmsg};
  }
  throw BulkWriteError(std::move(details), std::move(concern), 0, deleted);
}

}  // namespace

// What update_one, update_many and replace_one share.
struct Collection::UpdateCall {
  bson::View filter;
  bson::View update;
  wire::UpdateKind kind;
  bool multi;
  bool upsert;
  const std::vector<bson::Document>* array_filters;  // nullptr: none
  const std::optional<bson::Document>& collation;
  const std::optional<Hint>& hint;
  const std::optional<bool>& bypass_document_validation;
  const std::optional<bson::Document>& let;
  const std::optional<Comment>& comment;
};

UpdateResult Collection::run_update(const UpdateCall& call) const {
  std::vector<bson::View> array_filters;
  if (call.array_filters) {
    for (const auto& f : *call.array_filters) array_filters.push_back(f.view());
  }
  wire::UpdateStatement statement;
  statement.filter = call.filter;
  statement.update = call.update;
  statement.upsert = call.upsert;
  statement.multi = call.multi;
  statement.array_filters = array_filters;
  statement.collation = view_of(call.collation);
  statement.hint = view_of(call.hint);
  const bson::Document update = wire::make_update_statement(statement, call.kind);  // validates

  wire::WriteCommandOptions options;
  options.let = view_of(call.let);
  options.comment = view_of(call.comment);
  options.bypass_document_validation = call.bypass_document_validation;
  const bson::View update_view = update.view();
  wire::DocumentSequence sequence{wire::kUpdateStatements, {&update_view, 1}};
  auto reply = core_->run_write(db_, wire::make_update(db_, name_, options), {&sequence, 1}).reply;
  auto parsed = wire::parse_update_reply(reply);
  if (!parsed.write_errors.empty() || parsed.write_concern_error) throw_write_errors(parsed, 0);
  return std::move(parsed.result);
}

UpdateResult Collection::update_one(bson::View filter, bson::View update,
                                    const UpdateOptions& o) const {
  return run_update({filter, update, wire::UpdateKind::kUpdate, false, o.upsert, &o.array_filters,
                     o.collation, o.hint, o.bypass_document_validation, o.let, o.comment});
}

UpdateResult Collection::update_many(bson::View filter, bson::View update,
                                     const UpdateOptions& o) const {
  return run_update({filter, update, wire::UpdateKind::kUpdate, true, o.upsert, &o.array_filters,
                     o.collation, o.hint, o.bypass_document_validation, o.let, o.comment});
}

UpdateResult Collection::replace_one(bson::View filter, bson::View replacement,
                                     const ReplaceOptions& o) const {
  return run_update({filter, replacement, wire::UpdateKind::kReplacement, false, o.upsert, nullptr,
                     o.collation, o.hint, o.bypass_document_validation, o.let, o.comment});
}

DeleteResult Collection::run_delete(bson::View filter, bool just_one,
                                    const DeleteOptions& o) const {
  wire::DeleteStatement statement;
  statement.filter = filter;
  statement.just_one = just_one;
  statement.collation = view_of(o.collation);
  statement.hint = view_of(o.hint);
  const bson::Document del = wire::make_delete_statement(statement);
  wire::WriteCommandOptions options;
  options.let = view_of(o.let);
  options.comment = view_of(o.comment);
  const bson::View del_view = del.view();
  wire::DocumentSequence sequence{wire::kDeleteStatements, {&del_view, 1}};
  auto reply = core_->run_write(db_, wire::make_delete(db_, name_, options), {&sequence, 1}).reply;
  auto parsed = wire::parse_delete_reply(reply);
  if (!parsed.write_errors.empty() || parsed.write_concern_error)
    throw_write_errors(parsed, parsed.result.deleted_count);
  return parsed.result;
}

DeleteResult Collection::delete_one(bson::View filter, const DeleteOptions& options) const {
  return run_delete(filter, true, options);
}

DeleteResult Collection::delete_many(bson::View filter, const DeleteOptions& options) const {
  return run_delete(filter, false, options);
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
