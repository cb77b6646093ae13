#pragma once
// A collection: the CRUD operations of the driver. A cheap handle, like Database.
//
// Every operation runs on the operation layer (ops/operation.hpp, driver/operation_engine.hpp):
// reads go where the handle's read preference leads and carry its read concern, writes go to a
// writable server and carry its write concern (HandleOptions, inherited from the Database and
// the client's URI; nothing is sent where the server's default applies).
//
// Errors: ServerError ({ok: 0}: the server's code and message), BulkWriteError (per-document
// write errors and write-concern errors of an insert, update, replace, delete or bulk write,
// with the partial result), mongoslice::Error (network, server selection, client closed, and
// errc::invalid_argument for input refused before anything is sent).
//
// Thread-safety: a Collection may be used from several threads at once (its operations only
// read the handle and go through the client, which is thread-safe).

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "cursor/async_completion.hpp"
#include "cursor/cursor.hpp"
#include "driver/bulk_write.hpp"
#include "driver/client_session.hpp"
#include "driver/find_options.hpp"
#include "driver/handle_options.hpp"
#include "driver/index_options.hpp"
#include "driver/read_options.hpp"
#include "driver/write_error.hpp"
#include "driver/write_options.hpp"
#include "wire/bson.hpp"

namespace mongoslice {

class ClientCore;
class ClientSessionState;

class Collection {
 public:
  // Throws Error(errc::invalid_argument) for a name that is empty, holds a NUL, a '$' or is
  // not UTF-8 (driver/names.hpp). `options` are the database's (write concern, read concern,
  // read preference), inherited unless overridden with with_options().
  Collection(std::shared_ptr<ClientCore> core, std::string db, std::string_view name,
             HandleOptions options = {});

  // The names this handle addresses.
  const std::string& database_name() const noexcept { return db_; }
  const std::string& name() const noexcept { return name_; }

  // A copy of this handle with `overrides` applied over its options (a field left empty keeps
  // this handle's value).
  Collection with_options(const HandleOptions& overrides) const;
  const HandleOptions& options() const noexcept { return options_; }

  // A copy of this handle whose operations, blocking and async_ alike, run in `session`
  // (driver/client_session.hpp), which must be of this handle's client (checked when an
  // operation runs) and outlive the operations' calls (a cursor keeps what it needs).
  Collection with_session(const ClientSession& session) const;

  // ---- the operations in an explicit session ------------------------------------------
  // Each runs its twin below in `session`: with_session(session).op(...).
  InsertOneResult insert_one(const ClientSession& session, bson::View document,
                             const InsertOneOptions& options = {}) const;
  InsertManyResult insert_many(const ClientSession& session, std::span<const bson::View> documents,
                               const InsertManyOptions& options = {}) const;
  InsertManyResult insert_many(const ClientSession& session,
                               const std::vector<bson::Document>& documents,
                               const InsertManyOptions& options = {}) const;
  Cursor find(const ClientSession& session, bson::View filter,
              const FindOptions& options = {}) const;
  std::optional<bson::Document> find_one(const ClientSession& session, bson::View filter,
                                         FindOptions options = {}) const;
  UpdateResult update_one(const ClientSession& session, bson::View filter, bson::View update,
                          const UpdateOptions& options = {}) const;
  UpdateResult update_many(const ClientSession& session, bson::View filter, bson::View update,
                           const UpdateOptions& options = {}) const;
  UpdateResult replace_one(const ClientSession& session, bson::View filter, bson::View replacement,
                           const ReplaceOptions& options = {}) const;
  DeleteResult delete_one(const ClientSession& session, bson::View filter,
                          const DeleteOptions& options = {}) const;
  DeleteResult delete_many(const ClientSession& session, bson::View filter,
                           const DeleteOptions& options = {}) const;
  std::int64_t count_documents(const ClientSession& session, bson::View filter,
                               const CountOptions& options = {}) const;
  std::int64_t estimated_document_count(const ClientSession& session,
                                        const EstimatedDocumentCountOptions& options = {}) const;
  bson::Document distinct(const ClientSession& session, std::string_view field,
                          bson::View filter = {}, const DistinctOptions& options = {}) const;
  Cursor aggregate(const ClientSession& session, bson::View pipeline,
                   const AggregateOptions& options = {}) const;
  Cursor aggregate(const ClientSession& session, const std::vector<bson::Document>& pipeline,
                   const AggregateOptions& options = {}) const;
  std::optional<bson::Document> find_one_and_update(
      const ClientSession& session, bson::View filter, bson::View update,
      const FindOneAndUpdateOptions& options = {}) const;
  std::optional<bson::Document> find_one_and_replace(
      const ClientSession& session, bson::View filter, bson::View replacement,
      const FindOneAndReplaceOptions& options = {}) const;
  std::optional<bson::Document> find_one_and_delete(
      const ClientSession& session, bson::View filter,
      const FindOneAndDeleteOptions& options = {}) const;
  BulkWriteResult bulk_write(const ClientSession& session, std::span<const WriteModel> requests,
                             const BulkWriteOptions& options = {}) const;
  BulkWriteResult bulk_write(const ClientSession& session, const std::vector<WriteModel>& requests,
                             const BulkWriteOptions& options = {}) const;

  // Inserts one document. A document without _id gets a fresh ObjectId first (as every driver
  // does); the result holds the _id inserted ({_id: value}). Throws Error(errc::invalid_argument)
  // before sending when the document is larger than the server's maxBsonObjectSize, and
  // BulkWriteError for a write error or write-concern error.
  InsertOneResult insert_one(bson::View document, const InsertOneOptions& options = {}) const;

  // Inserts the documents (each without _id gets an ObjectId) in as few insert commands as the
  // server's limits allow (maxWriteBatchSize, maxMessageSizeBytes). Ordered (the default) stops
  // at the first failing document; unordered goes on. Throws Error(errc::invalid_argument) for
  // no documents, or, before anything is sent, for a document over maxBsonObjectSize (naming its
  // index); BulkWriteError with every write error (indexes in `documents`) and the partial
  // result (inserted_count, inserted_ids of the documents inserted).
  InsertManyResult insert_many(std::span<const bson::View> documents,
                               const InsertManyOptions& options = {}) const;
  InsertManyResult insert_many(const std::vector<bson::Document>& documents,
                               const InsertManyOptions& options = {}) const;

  // Runs find on a server chosen by the handle's read preference; the cursor runs getMore on
  // that same server. Throws Error(errc::invalid_argument) for a negative skip or batch_size or
  // limit == INT64_MIN, before anything is sent.
  Cursor find(bson::View filter, const FindOptions& options = {}) const;
  // The first matching document (in `sort` order when given), if any.
  std::optional<bson::Document> find_one(bson::View filter, FindOptions options = {}) const;

  // Updates the first document matching `filter` (update_one) or every one (update_many) with
  // `update`: a document of update operators (its first key starts with '$', e.g.
  // {$set: {x: 1}}) or an aggregation pipeline given as a BSON array of stages
  // (Document::from_json(R"([{"$set": {"x": 1}}])")). With options.upsert a document is inserted
  // when none matches; its _id is in the result's upserted_id.
  // Throws Error(errc::invalid_argument) before sending anything when `update` is empty, has a
  // first key without '$' or is a pipeline with an empty or non-'$' stage; BulkWriteError when
  // the server reports a write error or a write-concern error (with the partial result).
  UpdateResult update_one(bson::View filter, bson::View update,
                          const UpdateOptions& options = {}) const;
  UpdateResult update_many(bson::View filter, bson::View update,
                           const UpdateOptions& options = {}) const;

  // Replaces the first document matching `filter` with `replacement` (its _id is kept). Throws
  // Error(errc::invalid_argument) before sending anything when `replacement` has a top-level key
  // starting with '$' (that is an update: use update_one); BulkWriteError as update_one.
  UpdateResult replace_one(bson::View filter, bson::View replacement,
                           const ReplaceOptions& options = {}) const;

  // Deletes the first matching document (delete_one) or every one (delete_many). Throws
  // BulkWriteError when the server reports a write error or a write-concern error (its
  // deleted_count() is the server's n).
  DeleteResult delete_one(bson::View filter, const DeleteOptions& options = {}) const;
  DeleteResult delete_many(bson::View filter, const DeleteOptions& options = {}) const;

  // How many documents match (an aggregate of $match, [$skip], [$limit] and $group, as the CRUD
  // spec says). Throws Error(errc::invalid_argument) for a negative skip or limit.
  std::int64_t count_documents(bson::View filter, const CountOptions& options = {}) const;
  // The collection's document count from its metadata (the count command), not from a scan.
  std::int64_t estimated_document_count(const EstimatedDocumentCountOptions& options = {}) const;
  // The distinct values of `field` among the documents matching `filter`: a document with the
  // keys "0", "1", ... (a BSON array), in the server's order. Throws
  // Error(errc::invalid_argument) for an empty field name or one holding a NUL.
  bson::Document distinct(std::string_view field, bson::View filter = {},
                          const DistinctOptions& options = {}) const;

  // Runs an aggregation pipeline (a BSON array of stages, or the stages as documents) and
  // returns a cursor over its results. A pipeline ending in $out or $merge is a write (it goes
  // to a writable server with the write concern, and from wire version 8 the read concern too).
  // Throws Error(errc::invalid_argument) before sending for a stage that is not a document of
  // exactly one '$' field, a negative batch_size, or max_await_time (not supported yet).
  Cursor aggregate(bson::View pipeline, const AggregateOptions& options = {}) const;
  Cursor aggregate(const std::vector<bson::Document>& pipeline,
                   const AggregateOptions& options = {}) const;

  // findAndModify: the matching document before or after the change (options.return_document),
  // or nothing when none matched (and no upsert happened). The update / replacement is checked
  // as update_one / replace_one check theirs; a hint on a server older than MongoDB 4.2 is
  // refused before sending (Error(errc::invalid_argument)); a writeConcernError is thrown as
  // BulkWriteError.
  std::optional<bson::Document> find_one_and_update(
      bson::View filter, bson::View update, const FindOneAndUpdateOptions& options = {}) const;
  std::optional<bson::Document> find_one_and_replace(
      bson::View filter, bson::View replacement,
      const FindOneAndReplaceOptions& options = {}) const;
  std::optional<bson::Document> find_one_and_delete(
      bson::View filter, const FindOneAndDeleteOptions& options = {}) const;

  // Runs the writes in order (or not: options.ordered): consecutive requests of one command
  // share it, batched by the server's limits. Returns the counts and upserted / inserted ids by
  // request index. Throws Error(errc::invalid_argument) before sending for no requests, an
  // invalid update or replacement, or a document over maxBsonObjectSize; BulkWriteError with
  // every write error (request indexes) and the partial result.
  BulkWriteResult bulk_write(std::span<const WriteModel> requests,
                             const BulkWriteOptions& options = {}) const;
  BulkWriteResult bulk_write(const std::vector<WriteModel>& requests,
                             const BulkWriteOptions& options = {}) const;

  // Indexes. create_index returns the index's name (given, or made from the keys as servers do:
  // {a: 1, b: -1} -> "a_1_b_-1"). Throws Error(errc::invalid_argument) before sending for empty
  // keys or an empty name, keys no name can be made from (unless a name is given), and
  // commit_quorum on a server older than MongoDB 4.4; ServerError for the server's refusal.
  // list_indexes of a collection that does not exist is an empty cursor. drop_index("*") is
  // refused (use drop_indexes).
  std::string create_index(bson::View keys, const IndexOptions& options = {}) const;
  std::vector<std::string> create_indexes(const std::vector<IndexModel>& indexes,
                                          const CreateIndexesOptions& options = {}) const;
  Cursor list_indexes(const ListIndexesOptions& options = {}) const;
  void drop_index(std::string_view name, const DropIndexOptions& options = {}) const;
  void drop_index(bson::View keys, const DropIndexOptions& options = {}) const;
  void drop_indexes(const DropIndexOptions& options = {}) const;

  // Renames the collection (renameCollection on the admin database) and returns the handle of
  // the new name, in the same database unless `to_database` is given. The target's names are
  // checked first; onto an existing collection it is the server's error (ServerError,
  // NamespaceExists 48) unless drop_target is set.
  Collection rename(std::string_view to_collection, const RenameOptions& options = {}) const;

  // Drops the collection; a collection that does not exist is not an error.
  void drop() const;

  // ---- the asynchronous twins ------------------------------------------------------------
  // Each takes the arguments of its synchronous twin, options optional as there, plus an Asio
  // completion token last, and runs the same operation on the async engine; see
  // cursor/async_completion.hpp for tokens, executors, errors and cancellation. Views passed in
  // (documents, filters) must stay valid until the operation completes; options are copied.
  // The cursors of async_find and async_aggregate iterate with Cursor::async_next only.
  template <typename Token>
  auto async_insert_one(bson::View document, const InsertOneOptions& options, Token&& token) const {
    return complete_async<InsertOneResult>(
        async_executor(), co_insert_one(*this, document, options), std::forward<Token>(token));
  }
  template <typename Token>
  auto async_insert_one(bson::View document, Token&& token) const {
    return async_insert_one(document, InsertOneOptions{}, std::forward<Token>(token));
  }
  // The documents are copied (the operation may outlive the caller's vector).
  template <typename Token>
  auto async_insert_many(std::vector<bson::Document> documents, const InsertManyOptions& options,
                         Token&& token) const {
    return complete_async<InsertManyResult>(async_executor(),
                                            co_insert_many(*this, std::move(documents), options),
                                            std::forward<Token>(token));
  }
  template <typename Token>
  auto async_insert_many(std::vector<bson::Document> documents, Token&& token) const {
    return async_insert_many(std::move(documents), InsertManyOptions{}, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_find(bson::View filter, const FindOptions& options, Token&& token) const {
    return complete_async<Cursor>(async_executor(), co_find(*this, filter, options),
                                  std::forward<Token>(token));
  }
  template <typename Token>
  auto async_find(bson::View filter, Token&& token) const {
    return async_find(filter, FindOptions{}, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_find_one(bson::View filter, const FindOptions& options, Token&& token) const {
    return complete_async<std::optional<bson::Document>>(
        async_executor(), co_find_one(*this, filter, options), std::forward<Token>(token));
  }
  template <typename Token>
  auto async_find_one(bson::View filter, Token&& token) const {
    return async_find_one(filter, FindOptions{}, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_update_one(bson::View filter, bson::View update, const UpdateOptions& options,
                        Token&& token) const {
    return complete_async<UpdateResult>(async_executor(),
                                        co_update(*this, filter, update, options, false),
                                        std::forward<Token>(token));
  }
  template <typename Token>
  auto async_update_one(bson::View filter, bson::View update, Token&& token) const {
    return async_update_one(filter, update, UpdateOptions{}, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_update_many(bson::View filter, bson::View update, const UpdateOptions& options,
                         Token&& token) const {
    return complete_async<UpdateResult>(async_executor(),
                                        co_update(*this, filter, update, options, true),
                                        std::forward<Token>(token));
  }
  template <typename Token>
  auto async_update_many(bson::View filter, bson::View update, Token&& token) const {
    return async_update_many(filter, update, UpdateOptions{}, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_replace_one(bson::View filter, bson::View replacement, const ReplaceOptions& options,
                         Token&& token) const {
    return complete_async<UpdateResult>(async_executor(),
                                        co_replace_one(*this, filter, replacement, options),
                                        std::forward<Token>(token));
  }
  template <typename Token>
  auto async_replace_one(bson::View filter, bson::View replacement, Token&& token) const {
    return async_replace_one(filter, replacement, ReplaceOptions{}, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_delete_one(bson::View filter, const DeleteOptions& options, Token&& token) const {
    return complete_async<DeleteResult>(async_executor(), co_delete(*this, filter, options, true),
                                        std::forward<Token>(token));
  }
  template <typename Token>
  auto async_delete_one(bson::View filter, Token&& token) const {
    return async_delete_one(filter, DeleteOptions{}, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_delete_many(bson::View filter, const DeleteOptions& options, Token&& token) const {
    return complete_async<DeleteResult>(async_executor(), co_delete(*this, filter, options, false),
                                        std::forward<Token>(token));
  }
  template <typename Token>
  auto async_delete_many(bson::View filter, Token&& token) const {
    return async_delete_many(filter, DeleteOptions{}, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_aggregate(bson::View pipeline, const AggregateOptions& options, Token&& token) const {
    return complete_async<Cursor>(async_executor(), co_aggregate(*this, pipeline, options),
                                  std::forward<Token>(token));
  }
  template <typename Token>
  auto async_aggregate(bson::View pipeline, Token&& token) const {
    return async_aggregate(pipeline, AggregateOptions{}, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_count_documents(bson::View filter, const CountOptions& options, Token&& token) const {
    return complete_async<std::int64_t>(
        async_executor(), co_count_documents(*this, filter, options), std::forward<Token>(token));
  }
  template <typename Token>
  auto async_count_documents(bson::View filter, Token&& token) const {
    return async_count_documents(filter, CountOptions{}, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_estimated_document_count(const EstimatedDocumentCountOptions& options,
                                      Token&& token) const {
    return complete_async<std::int64_t>(
        async_executor(), co_estimated_document_count(*this, options), std::forward<Token>(token));
  }
  template <typename Token>
  auto async_estimated_document_count(Token&& token) const {
    return async_estimated_document_count(EstimatedDocumentCountOptions{},
                                          std::forward<Token>(token));
  }
  template <typename Token>
  auto async_distinct(std::string_view field, bson::View filter, const DistinctOptions& options,
                      Token&& token) const {
    return complete_async<bson::Document>(async_executor(),
                                          co_distinct(*this, std::string(field), filter, options),
                                          std::forward<Token>(token));
  }
  template <typename Token>
  auto async_distinct(std::string_view field, bson::View filter, Token&& token) const {
    return async_distinct(field, filter, DistinctOptions{}, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_find_one_and_update(bson::View filter, bson::View update,
                                 const FindOneAndUpdateOptions& options, Token&& token) const {
    return complete_async<std::optional<bson::Document>>(
        async_executor(), co_find_one_and_update(*this, filter, update, options),
        std::forward<Token>(token));
  }
  template <typename Token>
  auto async_find_one_and_update(bson::View filter, bson::View update, Token&& token) const {
    return async_find_one_and_update(filter, update, FindOneAndUpdateOptions{},
                                     std::forward<Token>(token));
  }
  template <typename Token>
  auto async_find_one_and_replace(bson::View filter, bson::View replacement,
                                  const FindOneAndReplaceOptions& options, Token&& token) const {
    return complete_async<std::optional<bson::Document>>(
        async_executor(), co_find_one_and_replace(*this, filter, replacement, options),
        std::forward<Token>(token));
  }
  template <typename Token>
  auto async_find_one_and_replace(bson::View filter, bson::View replacement, Token&& token) const {
    return async_find_one_and_replace(filter, replacement, FindOneAndReplaceOptions{},
                                      std::forward<Token>(token));
  }
  template <typename Token>
  auto async_find_one_and_delete(bson::View filter, const FindOneAndDeleteOptions& options,
                                 Token&& token) const {
    return complete_async<std::optional<bson::Document>>(
        async_executor(), co_find_one_and_delete(*this, filter, options),
        std::forward<Token>(token));
  }
  template <typename Token>
  auto async_find_one_and_delete(bson::View filter, Token&& token) const {
    return async_find_one_and_delete(filter, FindOneAndDeleteOptions{}, std::forward<Token>(token));
  }
  // The keys and index models are copied.
  template <typename Token>
  auto async_create_index(bson::View keys, const IndexOptions& options, Token&& token) const {
    return complete_async<std::string>(async_executor(),
                                       co_create_index(*this, bson::Document(keys), options),
                                       std::forward<Token>(token));
  }
  template <typename Token>
  auto async_create_index(bson::View keys, Token&& token) const {
    return async_create_index(keys, IndexOptions{}, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_create_indexes(std::vector<IndexModel> indexes, const CreateIndexesOptions& options,
                            Token&& token) const {
    return complete_async<std::vector<std::string>>(
        async_executor(), co_create_indexes(*this, std::move(indexes), options),
        std::forward<Token>(token));
  }
  template <typename Token>
  auto async_create_indexes(std::vector<IndexModel> indexes, Token&& token) const {
    return async_create_indexes(std::move(indexes), CreateIndexesOptions{},
                                std::forward<Token>(token));
  }
  template <typename Token>
  auto async_list_indexes(const ListIndexesOptions& options, Token&& token) const {
    return complete_async<Cursor>(async_executor(), co_list_indexes(*this, options),
                                  std::forward<Token>(token));
  }
  template <typename Token>
  auto async_list_indexes(Token&& token) const {
    return async_list_indexes(ListIndexesOptions{}, std::forward<Token>(token));
  }
  // Completes with void(error_code).
  template <typename Token>
  auto async_drop_index(std::string_view name, const DropIndexOptions& options,
                        Token&& token) const {
    return complete_async<void>(async_executor(),
                                co_drop_index(*this, std::string(name), std::nullopt, options),
                                std::forward<Token>(token));
  }
  template <typename Token>
  auto async_drop_index(std::string_view name, Token&& token) const {
    return async_drop_index(name, DropIndexOptions{}, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_drop_index(bson::View keys, const DropIndexOptions& options, Token&& token) const {
    return complete_async<void>(async_executor(),
                                co_drop_index(*this, std::nullopt, bson::Document(keys), options),
                                std::forward<Token>(token));
  }
  template <typename Token>
  auto async_drop_indexes(const DropIndexOptions& options, Token&& token) const {
    return complete_async<void>(async_executor(),
                                co_drop_index(*this, std::nullopt, std::nullopt, options),
                                std::forward<Token>(token));
  }
  template <typename Token>
  auto async_drop_indexes(Token&& token) const {
    return async_drop_indexes(DropIndexOptions{}, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_rename(std::string_view to_collection, const RenameOptions& options,
                    Token&& token) const {
    return complete_async<Collection>(async_executor(),
                                      co_rename(*this, std::string(to_collection), options),
                                      std::forward<Token>(token));
  }
  template <typename Token>
  auto async_rename(std::string_view to_collection, Token&& token) const {
    return async_rename(to_collection, RenameOptions{}, std::forward<Token>(token));
  }
  // Completes with void(error_code); a collection that does not exist is not an error.
  template <typename Token>
  auto async_drop(Token&& token) const {
    return complete_async<void>(async_executor(), co_drop(*this), std::forward<Token>(token));
  }
  // The requests are copied.
  template <typename Token>
  auto async_bulk_write(std::vector<WriteModel> requests, const BulkWriteOptions& options,
                        Token&& token) const {
    return complete_async<BulkWriteResult>(async_executor(),
                                           co_bulk_write(*this, std::move(requests), options),
                                           std::forward<Token>(token));
  }
  template <typename Token>
  auto async_bulk_write(std::vector<WriteModel> requests, Token&& token) const {
    return async_bulk_write(std::move(requests), BulkWriteOptions{}, std::forward<Token>(token));
  }

 private:
  friend struct CollectionWriteBodies;
  friend struct CollectionReadBodies;
  friend struct CollectionCountBodies;
  friend struct CollectionFindAndModifyBodies;
  friend struct CollectionIndexBodies;
  friend class Database;  // its collections inherit its session
  // ClientOptions::executor of the client.
  std::optional<boost::asio::any_io_executor> async_executor() const;
  // The async operations; each copies the handle, so that it may outlive the caller's.
  static boost::asio::awaitable<InsertOneResult> co_insert_one(Collection self, bson::View document,
                                                               InsertOneOptions options);
  static boost::asio::awaitable<InsertManyResult> co_insert_many(
      Collection self, std::vector<bson::Document> documents, InsertManyOptions options);
  static boost::asio::awaitable<Cursor> co_find(Collection self, bson::View filter,
                                                FindOptions options);
  static boost::asio::awaitable<std::optional<bson::Document>> co_find_one(
      const Collection& self, bson::View filter, const FindOptions& options);
  static boost::asio::awaitable<UpdateResult> co_update(Collection self, bson::View filter,
                                                        bson::View update, UpdateOptions options,
                                                        bool multi);
  static boost::asio::awaitable<UpdateResult> co_replace_one(Collection self, bson::View filter,
                                                             bson::View replacement,
                                                             ReplaceOptions options);
  static boost::asio::awaitable<DeleteResult> co_delete(Collection self, bson::View filter,
                                                        DeleteOptions options, bool just_one);
  static boost::asio::awaitable<Cursor> co_aggregate(Collection self, bson::View pipeline,
                                                     AggregateOptions options);
  static boost::asio::awaitable<std::int64_t> co_count_documents(Collection self, bson::View filter,
                                                                 CountOptions options);
  static boost::asio::awaitable<std::int64_t> co_estimated_document_count(
      Collection self, EstimatedDocumentCountOptions options);
  static boost::asio::awaitable<bson::Document> co_distinct(Collection self, std::string field,
                                                            bson::View filter,
                                                            DistinctOptions options);
  static boost::asio::awaitable<std::optional<bson::Document>> co_find_one_and_update(
      Collection self, bson::View filter, bson::View update, FindOneAndUpdateOptions options);
  static boost::asio::awaitable<std::optional<bson::Document>> co_find_one_and_replace(
      Collection self, bson::View filter, bson::View replacement, FindOneAndReplaceOptions options);
  static boost::asio::awaitable<std::optional<bson::Document>> co_find_one_and_delete(
      Collection self, bson::View filter, FindOneAndDeleteOptions options);
  static boost::asio::awaitable<std::string> co_create_index(Collection self, bson::Document keys,
                                                             IndexOptions options);
  static boost::asio::awaitable<std::vector<std::string>> co_create_indexes(
      Collection self, std::vector<IndexModel> indexes, CreateIndexesOptions options);
  static boost::asio::awaitable<Cursor> co_list_indexes(Collection self,
                                                        ListIndexesOptions options);
  // By name, by keys, or (neither given) all of them.
  static boost::asio::awaitable<void> co_drop_index(Collection self,
                                                    std::optional<std::string> name,
                                                    std::optional<bson::Document> keys,
                                                    DropIndexOptions options);
  static boost::asio::awaitable<Collection> co_rename(Collection self, std::string to_collection,
                                                      RenameOptions options);
  static boost::asio::awaitable<void> co_drop(Collection self);
  static boost::asio::awaitable<BulkWriteResult> co_bulk_write(Collection self,
                                                               std::vector<WriteModel> requests,
                                                               BulkWriteOptions options);

  // The handle's read preference / write concern / read concern, else the client's.
  const ReadPreference& read_preference() const noexcept;
  const WriteConcern& write_concern() const noexcept;
  const ReadConcern& read_concern() const noexcept;
  struct UpdateCall;
  UpdateResult run_update(const UpdateCall& call) const;
  DeleteResult run_delete(bson::View filter, bool just_one, const DeleteOptions& options) const;

  std::shared_ptr<ClientCore> core_;
  std::string db_;
  std::string name_;
  HandleOptions options_;
  std::shared_ptr<ClientSessionState> session_;  // with_session's; none: implicit sessions
};

}  // namespace mongoslice
