#pragma once
// A write that the server refused in part: Collection's insert, update, replace, delete and
// bulk_write operations report the server's writeErrors and writeConcernErrors as a
// BulkWriteError, with the result of what did succeed (the CRUD spec's partial result).
//
// An ordered write stops at the first failing request: partial_result() counts the requests
// before it (and any write-concern error does not stop it). An unordered write goes on and
// reports every failing request. Each write error's index is the position of the failing request
// in the caller's input (not in one of the driver's batches).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ops/write_results.hpp"  // IWYU pragma: export (WriteErrorDetail, BulkWriteResult)
#include "wire/bson.hpp"
#include "wire/error.hpp"

namespace mongoslice {

// Thrown by insert_many, bulk_write and the single writes when the server reports write errors
// or write-concern errors; carries all of them and the partial result.
class BulkWriteError : public Error {
 public:
  // The error of a bulk write: its write errors (by the requests' indexes), its write-concern
  // errors (one per command that had one) and the result of what succeeded. code() is the first
  // write error's code (else the first write-concern error's) in the server category.
  BulkWriteError(std::vector<WriteErrorDetail> write_errors,
                 std::vector<WriteErrorDetail> write_concern_errors,
                 BulkWriteResult partial_result);
  // The same with at most one write-concern error and only the inserted and deleted counts known.
  BulkWriteError(std::vector<WriteErrorDetail> write_errors,
                 std::optional<WriteErrorDetail> write_concern_error, std::int64_t inserted_count,
                 std::int64_t deleted_count);

  // The first write error (the only one for ordered writes), or the first write-concern error.
  std::int64_t index() const noexcept { return first().index; }
  std::int32_t server_code() const noexcept { return first().code; }
  const std::string& errmsg() const noexcept { return first().errmsg; }

  const std::vector<WriteErrorDetail>& write_errors() const noexcept { return write_errors_; }
  // Every write-concern error, and the first of them.
  const std::vector<WriteErrorDetail>& write_concern_errors() const noexcept {
    return write_concern_errors_;
  }
  const std::optional<WriteErrorDetail>& write_concern_error() const noexcept {
    return write_concern_error_;
  }
  // What the server reported done before and around the errors: counts, upserted ids and the
  // ids of the documents inserted (by their requests' indexes).
  const BulkWriteResult& partial_result() const noexcept { return partial_result_; }
  std::int64_t inserted_count() const noexcept { return partial_result_.inserted_count; }
  std::int64_t deleted_count() const noexcept { return partial_result_.deleted_count; }

 private:
  const WriteErrorDetail& first() const noexcept;

  std::vector<WriteErrorDetail> write_errors_;
  std::vector<WriteErrorDetail> write_concern_errors_;
  std::optional<WriteErrorDetail> write_concern_error_;
  BulkWriteResult partial_result_;
};

}  // namespace mongoslice
