// libFuzzer target: arbitrary bytes into the OP_MSG decoder, as a hostile peer would send them.
// Built by scripts/fuzz.sh (clang, -fsanitize=fuzzer,address,undefined), not by CMake.
//
// Whatever the decoder accepts must be safe to use: the body and every sequence document are
// walked with bson::View iteration and rendered with to_json, and validate() agrees.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "wire/bson.hpp"
#include "wire/commands.hpp"
#include "wire/error.hpp"
#include "wire/op_msg.hpp"

namespace {

using namespace mongoslice;

// Reads every element of a view (recursing into documents and arrays) so that a bad length
// the validator let through shows up as an ASan report here.
std::size_t walk(bson::View view, int depth) {
  std::size_t count = 0;
  for (auto element : view) {
    ++count;
    (void)element.key();
    switch (element.type()) {
      case bson::Type::kDocument:
        if (depth < 200) count += walk(element.get_document(), depth + 1);
        break;
      case bson::Type::kArray:
        if (depth < 200) count += walk(element.get_array(), depth + 1);
        break;
      case bson::Type::kString:
        (void)element.get_string();
        break;
      default:
        (void)element.as_bool();
        break;
    }
  }
  return count;
}

void check_document(bson::View view) {
  if (bson::validate(view.bytes())) std::abort();  // the decoder accepted invalid BSON
  walk(view, 0);
  (void)view.to_json();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size >= wire::kHeaderSize) {
    wire::MessageHeader header;
    wire::DecodeDiagnostics diagnostics;
    (void)wire::parse_header(
        std::span<const std::uint8_t, wire::kHeaderSize>(data, wire::kHeaderSize),
        wire::kDefaultMaxMessageSize, header, &diagnostics);
  }
  // The responseTo the message itself claims, so that fuzzing gets past that check.
  std::int32_t response_to = 0;
  if (size >= 12) {
    response_to = static_cast<std::int32_t>(data[8] | (data[9] << 8) | (data[10] << 16) |
                                            (static_cast<std::uint32_t>(data[11]) << 24));
  }
  wire::OpMsg message;
  wire::DecodeDiagnostics diagnostics;
  auto ec = wire::decode_op_msg(std::vector<std::uint8_t>(data, data + size), response_to,
                                wire::kDefaultMaxMessageSize, message, &diagnostics);
  if (ec) {
    (void)diagnostics.describe();
    return 0;
  }
  check_document(message.body());
  for (const auto& sequence : message.sequences()) {
    for (const auto& document : sequence.documents) check_document(document);
  }
  // The reply parsers must fail cleanly (an exception), never crash.
  try {
    (void)wire::parse_cursor_reply(message.body());
  } catch (const Error&) {
  }
  try {
    (void)wire::parse_write_reply(message.body());
  } catch (const Error&) {
  }
  try {
    (void)wire::parse_kill_cursors_reply(message.body());
  } catch (const Error&) {
  }
  return 0;
}
