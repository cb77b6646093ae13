#include "driver/write_error.hpp"

#include <utility>

namespace mongoslice {
namespace {

std::string describe(const std::vector<WriteErrorDetail>& errors,
                     const std::optional<WriteErrorDetail>& concern, std::int64_t inserted) {
  std::string text;
  if (!errors.empty()) {
    const auto& e = errors.front();
    text = "write error at index " + std::to_string(e.index) + ": " + e.errmsg + " (code " +
           std::to_string(e.code) + ")";
    if (errors.size() > 1) text += " and " + std::to_string(errors.size() - 1) + " more";
  } else if (concern) {
    text =
        "write concern error: " + concern->errmsg + " (code " + std::to_string(concern->code) + ")";
  }
  return text + "; " + std::to_string(inserted) + " inserted";
}

std::int32_t first_code(const std::vector<WriteErrorDetail>& errors,
                        const std::optional<WriteErrorDetail>& concern) {
  if (!errors.empty()) return errors.front().code;
  return concern ? concern->code : 0;
}

}  // namespace

BulkWriteError::BulkWriteError(std::vector<WriteErrorDetail> write_errors,
                               std::optional<WriteErrorDetail> write_concern_error,
                               std::int64_t inserted_count, std::int64_t deleted_count)
    : Error(std::error_code(first_code(write_errors, write_concern_error), server_category()),
            describe(write_errors, write_concern_error, inserted_count)),
      write_errors_(std::move(write_errors)),
      write_concern_error_(std::move(write_concern_error)),
      inserted_count_(inserted_count),
      deleted_count_(deleted_count) {
}

const WriteErrorDetail& BulkWriteError::first() const noexcept {
  static const WriteErrorDetail kNone{};
  if (!write_errors_.empty()) return write_errors_.front();
  return write_concern_error_ ? *write_concern_error_ : kNone;
}

}  // namespace mongoslice
