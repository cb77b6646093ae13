#pragma once
// A collection: the CRUD operations of the driver. A cheap handle, like Database.
//
// Errors: ServerError ({ok: 0}: the server's code and message), BulkWriteError (per-document
// write errors of an insert or delete; inserts are ordered), mongoslice::Error (network,
// server selection, client closed, ...).

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cursor/cursor.hpp"
#include "driver/find_options.hpp"
#include "driver/write_error.hpp"
#include "wire/bson.hpp"

namespace mongoslice {

class ClientCore;

class Collection {
 public:
  Collection(std::shared_ptr<ClientCore> core, std::string db, std::string_view name)
      : core_(std::move(core)), db_(std::move(db)), name_(name) {}

  const std::string& database_name() const noexcept { return db_; }
  const std::string& name() const noexcept { return name_; }

  // Inserts one document. A document without _id gets a fresh ObjectId first (as every driver
  // does), which is returned; otherwise the document's own _id is returned.
  bson::Document insert_one(bson::View document) const;

  // Inserts in order, in as few insert commands as the server's limits allow. Returns how many
  // were inserted. On the first failing document throws BulkWriteError with its index in
  // `documents` and how many were inserted before it.
  std::int64_t insert_many(std::span<const bson::View> documents) const;
  std::int64_t insert_many(const std::vector<bson::Document>& documents) const;

  // Runs find on a server chosen by the client's read preference; the cursor runs getMore on
  // that same server.
  Cursor find(bson::View filter, const FindOptions& options = {}) const;
  // The first matching document (in `sort` order when given), if any.
  std::optional<bson::Document> find_one(bson::View filter, FindOptions options = {}) const;

  // Deletes every matching document; returns how many.
  std::int64_t delete_many(bson::View filter) const;

  // How many documents match (an aggregate of $match and $group, as the CRUD spec says).
  std::int64_t count_documents(bson::View filter) const;

  // Drops the collection; a collection that does not exist is not an error.
  void drop() const;

 private:
  std::shared_ptr<ClientCore> core_;
  std::string db_;
  std::string name_;
};

}  // namespace mongoslice
