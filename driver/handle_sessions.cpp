// The handles' explicit-session operations (driver/client_session.hpp): each runs its twin on
// a copy of the handle bound to the session, so that the session reaches the engine the same
// way for every operation, blocking or async.
#include "driver/client_session_state.hpp"
#include "driver/database.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

const std::shared_ptr<ClientSessionState>& live_state(const ClientSession& session) {
  if (session.has_ended()) {
    throw Error(errc::invalid_argument, "the session has ended: start a new one");
  }
  return session.state();
}

}  // namespace

Collection Collection::with_session(const ClientSession& session) const {
  Collection bound(*this);
  bound.session_ = live_state(session);
  return bound;
}

InsertOneResult Collection::insert_one(const ClientSession& s, bson::View document,
                                       const InsertOneOptions& options) const {
  return with_session(s).insert_one(document, options);
}
InsertManyResult Collection::insert_many(const ClientSession& s,
                                         std::span<const bson::View> documents,
                                         const InsertManyOptions& options) const {
  return with_session(s).insert_many(documents, options);
}
InsertManyResult Collection::insert_many(const ClientSession& s,
                                         const std::vector<bson::Document>& documents,
                                         const InsertManyOptions& options) const {
  return with_session(s).insert_many(documents, options);
}
Cursor Collection::find(const ClientSession& s, bson::View filter,
                        const FindOptions& options) const {
  return with_session(s).find(filter, options);
}
std::optional<bson::Document> Collection::find_one(const ClientSession& s, bson::View filter,
                                                   FindOptions options) const {
  return with_session(s).find_one(filter, std::move(options));
}
UpdateResult Collection::update_one(const ClientSession& s, bson::View filter, bson::View update,
                                    const UpdateOptions& options) const {
  return with_session(s).update_one(filter, update, options);
}
UpdateResult Collection::update_many(const ClientSession& s, bson::View filter, bson::View update,
                                     const UpdateOptions& options) const {
  return with_session(s).update_many(filter, update, options);
}
UpdateResult Collection::replace_one(const ClientSession& s, bson::View filter,
                                     bson::View replacement, const ReplaceOptions& options) const {
  return with_session(s).replace_one(filter, replacement, options);
}
DeleteResult Collection::delete_one(const ClientSession& s, bson::View filter,
                                    const DeleteOptions& options) const {
  return with_session(s).delete_one(filter, options);
}
DeleteResult Collection::delete_many(const ClientSession& s, bson::View filter,
                                     const DeleteOptions& options) const {
  return with_session(s).delete_many(filter, options);
}
std::int64_t Collection::count_documents(const ClientSession& s, bson::View filter,
                                         const CountOptions& options) const {
  return with_session(s).count_documents(filter, options);
}
std::int64_t Collection::estimated_document_count(
    const ClientSession& s, const EstimatedDocumentCountOptions& options) const {
  return with_session(s).estimated_document_count(options);
}
bson::Document Collection::distinct(const ClientSession& s, std::string_view field,
                                    bson::View filter, const DistinctOptions& options) const {
  return with_session(s).distinct(field, filter, options);
}
Cursor Collection::aggregate(const ClientSession& s, bson::View pipeline,
                             const AggregateOptions& options) const {
  return with_session(s).aggregate(pipeline, options);
}
Cursor Collection::aggregate(const ClientSession& s, const std::vector<bson::Document>& pipeline,
                             const AggregateOptions& options) const {
  return with_session(s).aggregate(pipeline, options);
}
std::optional<bson::Document> Collection::find_one_and_update(
    const ClientSession& s, bson::View filter, bson::View update,
    const FindOneAndUpdateOptions& options) const {
  return with_session(s).find_one_and_update(filter, update, options);
}
std::optional<bson::Document> Collection::find_one_and_replace(
    const ClientSession& s, bson::View filter, bson::View replacement,
    const FindOneAndReplaceOptions& options) const {
  return with_session(s).find_one_and_replace(filter, replacement, options);
}
std::optional<bson::Document> Collection::find_one_and_delete(
    const ClientSession& s, bson::View filter, const FindOneAndDeleteOptions& options) const {
  return with_session(s).find_one_and_delete(filter, options);
}
BulkWriteResult Collection::bulk_write(const ClientSession& s, std::span<const WriteModel> requests,
                                       const BulkWriteOptions& options) const {
  return with_session(s).bulk_write(requests, options);
}
BulkWriteResult Collection::bulk_write(const ClientSession& s,
                                       const std::vector<WriteModel>& requests,
                                       const BulkWriteOptions& options) const {
  return with_session(s).bulk_write(requests, options);
}

Database Database::with_session(const ClientSession& session) const {
  Database bound(*this);
  bound.session_ = live_state(session);
  return bound;
}
bson::Document Database::run_command(const ClientSession& s, bson::View command) const {
  return with_session(s).run_command(command);
}
Cursor Database::aggregate(const ClientSession& s, bson::View pipeline,
                           const AggregateOptions& options) const {
  return with_session(s).aggregate(pipeline, options);
}

}  // namespace mongoslice
