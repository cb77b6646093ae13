#include "ops/bulk_write_op.hpp"

#include <algorithm>
#include <set>
#include <string>

#include "ops/commands.hpp"
#include "wire/error.hpp"

namespace mongoslice::ops {
namespace {

constexpr std::array<std::string_view, 3> kIdentifiers = {
    wire::kInsertDocuments, wire::kUpdateStatements, wire::kDeleteStatements};

std::string kind_name(StatementKind kind) {
  switch (kind) {
    case StatementKind::kInsert:
      return "insert";
    case StatementKind::kUpdate:
      return "update";
    case StatementKind::kReplace:
      return "replacement";
    case StatementKind::kDelete:
      return "delete";
  }
  return "write";
}

// The document the size limit applies to: an inserted document, or a replacement's u.
std::optional<std::size_t> document_size(StatementKind kind, bson::View statement) {
  if (kind == StatementKind::kInsert) return statement.size();
  if (kind == StatementKind::kReplace) {
    if (auto u = statement.find("u"); u && u->type() == bson::Type::kDocument)
      return u->get_document().size();
  }
  return std::nullopt;
}

}  // namespace

BulkWrite::Command BulkWrite::command_of(StatementKind kind) noexcept {
  switch (kind) {
    case StatementKind::kInsert:
      return kInsertCommand;
    case StatementKind::kUpdate:
    case StatementKind::kReplace:
      return kUpdateCommand;
    case StatementKind::kDelete:
      return kDeleteCommand;
  }
  return kInsertCommand;
}

namespace {

// The retryable writes spec: an update with multi: true or a delete with limit: 0 may have
// written some documents before it failed, so it is never retried.
bool affects_many(const WriteStatement& statement) {
  if (statement.kind == StatementKind::kUpdate) {
    auto multi = statement.statement.find("multi");
    return multi && multi->type() == bson::Type::kBool && multi->get_bool();
  }
  if (statement.kind == StatementKind::kDelete) {
    auto limit = statement.statement.find("limit");
    return !limit || !limit->is_number() || limit->as_int64() == 0;
  }
  return false;
}

}  // namespace

BulkWrite::BulkWrite(std::string_view db, std::string_view collection,
                     std::vector<WriteStatement> statements,
                     const wire::WriteCommandOptions& options)
    : db_(db), ordered_(options.ordered), acknowledged_(options.write_concern.is_acknowledged()) {
  if (statements.empty())
    throw Error(errc::invalid_argument, "a bulk write needs at least one write");
  kinds_.reserve(statements.size());
  statements_.reserve(statements.size());
  retryable_ = acknowledged_;
  for (const auto& s : statements) {
    kinds_.push_back(s.kind);
    statements_.push_back(s.statement);
    if (retryable_ && affects_many(s)) retryable_ = false;
    auto& body = bodies_[command_of(s.kind)];
    if (body) continue;
    switch (command_of(s.kind)) {
      case kInsertCommand:
        body = wire::make_insert_command(db, collection, options);
        break;
      case kUpdateCommand:
        body = wire::make_update(db, collection, options);
        break;
      case kDeleteCommand:
        body = wire::make_delete(db, collection, options);
        break;
    }
  }
  outcome_.result.acknowledged = acknowledged_;
}

std::size_t BulkWrite::framing_of(Command command) const noexcept {
  // header, flagBits, the body section (kind byte + document), the sequence section (kind byte,
  // int32 size, identifier as a C string).
  return wire::kHeaderSize + 4 + 1 + bodies_[command]->size() + 1 + 4 +
         kIdentifiers[command].size() + 1 + kMessageReserve;
}

Step BulkWrite::start(const ServerLimits& limits) {
  // A limit that is not positive is no limit a server can mean: its default applies.
  const ServerLimits defaults;
  limits_ = limits;
  if (limits_.max_write_batch_size < 1)
    limits_.max_write_batch_size = defaults.max_write_batch_size;
  if (limits_.max_bson_object_size < 1)
    limits_.max_bson_object_size = defaults.max_bson_object_size;
  if (limits_.max_message_size_bytes < 1)
    limits_.max_message_size_bytes = defaults.max_message_size_bytes;
  for (std::size_t i = 0; i < statements_.size(); ++i) {
    const auto size = document_size(kinds_[i], statements_[i]);
    if (size && *size > static_cast<std::size_t>(limits_.max_bson_object_size)) {
      throw Error(errc::invalid_argument,
                  "write " + std::to_string(i) + ": the " + kind_name(kinds_[i]) + " document is " +
                      std::to_string(*size) +
                      " bytes, more than the server's maxBsonObjectSize of " +
                      std::to_string(limits_.max_bson_object_size) + " bytes");
    }
    const std::size_t framing = framing_of(command_of(kinds_[i]));
    const auto max_message = static_cast<std::size_t>(limits_.max_message_size_bytes);
    if (framing + statements_[i].size() > max_message) {
      throw Error(errc::invalid_argument,
                  "write " + std::to_string(i) + ": the " + kind_name(kinds_[i]) +
                      " statement of " + std::to_string(statements_[i].size()) +
                      " bytes does not fit in a message of the server's maxMessageSizeBytes (" +
                      std::to_string(max_message) + " bytes, " + std::to_string(framing) +
                      " of them taken by the command and headers)");
    }
  }
  return send_next();
}

Step BulkWrite::send_next() {
  const Command command = command_of(kinds_[next_]);
  const std::size_t budget =
      static_cast<std::size_t>(limits_.max_message_size_bytes) - framing_of(command);
  const auto max_count = static_cast<std::size_t>(limits_.max_write_batch_size);
  std::size_t end = next_, bytes = 0;
  // The first statement always goes (start() checked that it fits alone).
  while (end < statements_.size() && command_of(kinds_[end]) == command &&
         end - next_ < max_count && (end == next_ || bytes + statements_[end].size() <= budget)) {
    bytes += statements_[end].size();
    ++end;
  }
  batch_begin_ = next_;
  batch_end_ = end;
  next_ = end;
  sequence_ = {kIdentifiers[command],
               std::span<const bson::View>(statements_).subspan(batch_begin_, end - batch_begin_)};
  ++outcome_.commands_sent;
  return Send{{db_, bodies_[command]->view(), {&sequence_, 1}}};
}

std::int64_t BulkWrite::original_index(std::int64_t local, std::string_view what) const {
  if (local < 0 || local >= static_cast<std::int64_t>(batch_end_ - batch_begin_)) {
    throw Error(errc::bson_type_mismatch, "the reply's " + std::string(what) + " index " +
                                              std::to_string(local) + " is outside the command's " +
                                              std::to_string(batch_end_ - batch_begin_) +
                                              " statements");
  }
  return static_cast<std::int64_t>(batch_begin_) + local;
}

void BulkWrite::add_write_errors(const std::vector<wire::WriteError>& errors,
                                 const std::optional<wire::WriteConcernError>& concern) {
  for (const auto& e : errors)
    outcome_.write_errors.push_back({original_index(e.index, "writeErrors"), e.code, e.errmsg});
  if (concern) outcome_.write_concern_errors.push_back({0, concern->code, concern->errmsg});
}

void BulkWrite::read_insert_reply(bson::View reply) {
  wire::WriteReply parsed = wire::parse_write_reply(reply);
  add_write_errors(parsed.write_errors, parsed.write_concern_error);
  outcome_.result.inserted_count += parsed.n;
  // Inserted: every document without a write error, and for an ordered write none past the first
  // error (the server stops there).
  std::set<std::int64_t> failed;
  std::int64_t stop = static_cast<std::int64_t>(batch_end_ - batch_begin_);
  for (const auto& e : parsed.write_errors) {
    failed.insert(e.index);
    if (ordered_) stop = std::min<std::int64_t>(stop, e.index);
  }
  for (std::int64_t local = 0; local < stop; ++local) {
    if (failed.contains(local)) continue;
    const std::size_t i = batch_begin_ + static_cast<std::size_t>(local);
    if (auto id = statements_[i].find("_id")) {
      outcome_.result.inserted_ids.emplace(static_cast<std::int64_t>(i),
                                           bson::Builder{}.append("_id", *id).build());
    }
  }
}

void BulkWrite::read_update_reply(bson::View reply) {
  wire::UpdateReply parsed = wire::parse_update_reply(reply);
  add_write_errors(parsed.write_errors, parsed.write_concern_error);
  outcome_.result.matched_count += parsed.result.matched_count;
  outcome_.result.modified_count += parsed.result.modified_count;
  outcome_.result.upserted_count += parsed.result.upserted_count;
  for (auto& upserted : parsed.upserted) {
    outcome_.result.upserted_ids.insert_or_assign(original_index(upserted.index, "upserted"),
                                                  std::move(upserted.id));
  }
}

void BulkWrite::read_delete_reply(bson::View reply) {
  wire::DeleteReply parsed = wire::parse_delete_reply(reply);
  add_write_errors(parsed.write_errors, parsed.write_concern_error);
  outcome_.result.deleted_count += parsed.result.deleted_count;
}

Step BulkWrite::on_reply(bson::Document reply) {
  const std::size_t errors_before = outcome_.write_errors.size();
  if (acknowledged_) {
    switch (command_of(kinds_[batch_begin_])) {
      case kInsertCommand:
        read_insert_reply(reply.view());
        break;
      case kUpdateCommand:
        read_update_reply(reply.view());
        break;
      case kDeleteCommand:
        read_delete_reply(reply.view());
        break;
    }
  } else {
    wire::throw_if_command_failed(reply.view());
  }
  const bool stop = ordered_ && outcome_.write_errors.size() > errors_before;
  if (stop || next_ == statements_.size()) return Done{};
  return send_next();
}

}  // namespace mongoslice::ops
