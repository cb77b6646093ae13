#include "driver/write_error.hpp"

#include <utility>

namespace mongoslice {
namespace {

std::string describe(const std::vector<WriteErrorDetail>& errors,
                     const std::vector<WriteErrorDetail>& concerns, const BulkWriteResult& done) {
  std::string text;
  if (!errors.empty()) {
    const auto& e = errors.front();
    text = "write error at index " + std::to_string(e.index) + ": " + e.errmsg + " (code " +
           std::to_string(e.code) + ")";
    if (errors.size() > 1) text += " and " + std::to_string(errors.size() - 1) + " more";
  }
  if (!concerns.empty()) {
    if (!text.empty()) text += "; ";
    text += "write concern error: " + concerns.front().errmsg + " (code " +
            std::to_string(concerns.front().code) + ")";
  }
  text += "; " + std::to_string(done.inserted_count) + " inserted";
  const std::pair<const char*, std::int64_t> counts[] = {{"matched", done.matched_count},
                                                         {"modified", done.modified_count},
                                                         {"upserted", done.upserted_count},
                                                         {"deleted", done.deleted_count}};
  for (const auto& [name, count] : counts) {
    if (count != 0) text += ", " + std::to_string(count) + " " + name;
  }
  return text;
}

std::int32_t first_code(const std::vector<WriteErrorDetail>& errors,
                        const std::vector<WriteErrorDetail>& concerns) {
  if (!errors.empty()) return errors.front().code;
  return concerns.empty() ? 0 : concerns.front().code;
}

std::vector<WriteErrorDetail> as_list(std::optional<WriteErrorDetail> concern) {
  std::vector<WriteErrorDetail> list;
  if (concern) list.push_back(std::move(*concern));
  return list;
}

BulkWriteResult counts(std::int64_t inserted, std::int64_t deleted) {
  BulkWriteResult result;
  result.inserted_count = inserted;
  result.deleted_count = deleted;
  return result;
}

}  // namespace

BulkWriteError::BulkWriteError(std::vector<WriteErrorDetail> write_errors,
                               std::vector<WriteErrorDetail> write_concern_errors,
                               BulkWriteResult partial_result)
    : Error(std::error_code(first_code(write_errors, write_concern_errors), server_category()),
            describe(write_errors, write_concern_errors, partial_result)),
      write_errors_(std::move(write_errors)),
      write_concern_errors_(std::move(write_concern_errors)),
      partial_result_(std::move(partial_result)) {
  if (!write_concern_errors_.empty()) write_concern_error_ = write_concern_errors_.front();
}

BulkWriteError::BulkWriteError(std::vector<WriteErrorDetail> write_errors,
                               std::optional<WriteErrorDetail> write_concern_error,
                               std::int64_t inserted_count, std::int64_t deleted_count)
    : BulkWriteError(std::move(write_errors), as_list(std::move(write_concern_error)),
                     counts(inserted_count, deleted_count)) {
}

const WriteErrorDetail& BulkWriteError::first() const noexcept {
  static const WriteErrorDetail kNone{};
  if (!write_errors_.empty()) return write_errors_.front();
  return write_concern_error_ ? *write_concern_error_ : kNone;
}

}  // namespace mongoslice
