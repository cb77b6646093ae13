#include "ops/concerns.hpp"

#include "wire/error.hpp"

namespace mongoslice {

bool WriteConcern::is_acknowledged() const noexcept {
  const auto* count = w ? std::get_if<std::int32_t>(&*w) : nullptr;
  return !(count && *count == 0 && !journal.value_or(false));
}

namespace wire {

void append_write_concern(bson::Builder& command, const WriteConcern& concern) {
  if (concern.is_server_default()) return;
  if (concern.w) {
    if (const auto* count = std::get_if<std::int32_t>(&*concern.w)) {
      if (*count < 0) throw Error(errc::invalid_argument, "write concern: w must be >= 0");
      if (*count == 0 && concern.journal.value_or(false)) {
        throw Error(errc::invalid_argument, "write concern: w: 0 cannot be combined with j: true");
      }
    }
  }
  if (concern.wtimeout && concern.wtimeout->count() < 0) {
    throw Error(errc::invalid_argument, "write concern: wtimeout must be >= 0");
  }
  command.open_document("writeConcern");
  if (concern.w) {
    if (const auto* count = std::get_if<std::int32_t>(&*concern.w)) {
      command.append("w", *count);
    } else {
      command.append("w", std::get<std::string>(*concern.w));
    }
  }
  if (concern.journal) command.append("j", *concern.journal);
  if (concern.wtimeout)
    command.append("wtimeout", static_cast<std::int64_t>(concern.wtimeout->count()));
  command.close();
}

void append_read_concern(bson::Builder& command, const ReadConcern& concern) {
  if (concern.is_server_default()) return;
  command.open_document("readConcern").append("level", *concern.level).close();
}

}  // namespace wire
}  // namespace mongoslice
