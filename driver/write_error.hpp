#pragma once
// A write that the server refused in part: Collection's insert, update, replace and delete
// operations report the server's writeErrors (and writeConcernError) as a BulkWriteError.
//
// Inserts are ordered, so the server stops at the first failing document: inserted_count() says
// how many documents before it were inserted, and the write error's index is the position of
// the failing document in the caller's input (not in one of the driver's batches).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wire/bson.hpp"
#include "wire/error.hpp"

namespace mongoslice {

struct WriteErrorDetail {
  std::int64_t index = 0;  // position in the caller's input
  std::int32_t code = 0;   // the server's error code, e.g. 11000 (duplicate key)
  std::string errmsg;
};

class BulkWriteError : public Error {
 public:
  BulkWriteError(std::vector<WriteErrorDetail> write_errors,
                 std::optional<WriteErrorDetail> write_concern_error, std::int64_t inserted_count,
                 std::int64_t deleted_count);

  // The first write error (the only one for ordered writes), or the write-concern error.
  std::int64_t index() const noexcept { return first().index; }
  std::int32_t server_code() const noexcept { return first().code; }
  const std::string& errmsg() const noexcept { return first().errmsg; }

  const std::vector<WriteErrorDetail>& write_errors() const noexcept { return write_errors_; }
  const std::optional<WriteErrorDetail>& write_concern_error() const noexcept {
    return write_concern_error_;
  }
  std::int64_t inserted_count() const noexcept { return inserted_count_; }
  std::int64_t deleted_count() const noexcept { return deleted_count_; }

 private:
  const WriteErrorDetail& first() const noexcept;

  std::vector<WriteErrorDetail> write_errors_;
  std::optional<WriteErrorDetail> write_concern_error_;
  std::int64_t inserted_count_ = 0;
  std::int64_t deleted_count_ = 0;
};

}  // namespace mongoslice
