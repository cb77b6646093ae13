// libFuzzer target: arbitrary bytes into the OP_MSG decoder, the OP_COMPRESSED decoder (and the
// OP_MSG decoder on what it gives) and the handshake's OP_REPLY decoder (each input is tried as
// all three), as a hostile peer would send them. Built by scripts/fuzz.sh
// (clang, -fsanitize=fuzzer,address,undefined), not by CMake.
//
// Whatever the decoder accepts must be safe to use: the body and every sequence document are
// walked with bson::View iteration, every element read with each typed getter that applies to
// it (a refusal is a mongoslice::Error, never a crash or undefined behaviour), rendered with
// to_json, and validate() agrees. An OP_COMPRESSED the decoder accepts gives exactly
// 16 + uncompressedSize bytes with the header rebuilt; that message then goes the OP_MSG way. The
// body is also read the way the driver reads replies: ServerError::from_reply, the hello fields,
// and the cursor, write and killCursors parsers. An OP_REPLY the decoder accepts holds exactly one
// valid document, which is read as a hello.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "ops/commands.hpp"
#include "wire/bson.hpp"
#include "wire/error.hpp"
#include "wire/little_endian.hpp"
#include "wire/op_compressed.hpp"
#include "wire/op_msg.hpp"
#include "wire/op_query.hpp"

namespace {

using namespace mongoslice;

// Runs one getter; the getters may refuse what the peer sent, but only with an Error.
template <typename Read>
void attempt(Read&& read) {
  try {
    (void)read();
  } catch (const Error&) {
  }
}

// Reads every element of a view with the getters that apply to its type (recursing into
// documents and arrays), so that a bad length the validator let through shows up as an ASan
// report and a bad conversion as a UBSan one.
std::size_t walk(bson::View view, int depth) {
  std::size_t count = 0;
  for (auto element : view) {
    ++count;
    (void)element.key();
    (void)element.as_bool();
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
      case bson::Type::kInt32:
      case bson::Type::kInt64:
      case bson::Type::kDouble:
        attempt([&] { return element.as_int64(); });
        attempt([&] { return element.as_int32(); });
        attempt([&] { return element.as_double(); });
        break;
      case bson::Type::kBool:
        (void)element.get_bool();
        break;
      case bson::Type::kOid:
        (void)element.get_oid();
        break;
      case bson::Type::kDateTime:
        attempt([&] { return element.get_date_time(); });
        break;
      default:
        break;
    }
  }
  return count;
}

// A field the driver reads as a number (the handshake, the monitors, the reply parsers).
void number_field(bson::View view, std::string_view key) {
  if (auto element = view.find(key); element && element->is_number()) {
    attempt([&] { return element->as_int64(); });
    attempt([&] { return element->as_int32(); });
  }
}

// A field the driver reads as a string, or as an array of strings.
void string_field(bson::View view, std::string_view key) {
  if (auto element = view.find(key)) {
    attempt([&] { return element->get_string(); });
    if (element->type() == bson::Type::kArray) {
      for (auto member : element->get_array()) attempt([&] { return member.get_string(); });
    }
  }
}

// The fields of a reply the driver reads by name: the error fields (ServerError::from_reply and
// directly), the hello fields of the handshake and of monitor/server_description.cpp.
void read_like_the_driver(bson::View body) {
  attempt([&] { return ServerError::from_reply(body); });
  if (auto ok = body.find("ok")) (void)ok->as_bool();
  number_field(body, "code");
  for (std::string_view key : {"errmsg", "codeName", "errorLabels", "setName", "me", "primary",
                               "hosts", "passives", "arbiters", "msg"}) {
    string_field(body, key);
  }
  for (std::string_view key :
       {"maxWireVersion", "minWireVersion", "maxBsonObjectSize", "maxMessageSizeBytes",
        "maxWriteBatchSize", "setVersion", "logicalSessionTimeoutMinutes", "n", "connectionId"}) {
    number_field(body, key);
  }
  for (std::string_view key : {"isWritablePrimary", "ismaster", "secondary", "arbiterOnly",
                               "hidden", "isreplicaset", "helloOk"}) {
    if (auto flag = body.find(key)) (void)flag->as_bool();
  }
  if (auto id = body.find("electionId")) attempt([&] { return id->get_oid(); });
  if (auto tags = body.find("tags"); tags && tags->type() == bson::Type::kDocument) {
    for (auto tag : tags->get_document()) attempt([&] { return tag.get_string(); });
  }
  if (auto version = body.find("topologyVersion");
      version && version->type() == bson::Type::kDocument) {
    bson::View fields = version->get_document();
    if (auto pid = fields.find("processId")) attempt([&] { return pid->get_oid(); });
    number_field(fields, "counter");
  }
  if (auto write = body.find("lastWrite"); write && write->type() == bson::Type::kDocument) {
    if (auto date = write->get_document().find("lastWriteDate")) {
      attempt([&] { return date->get_date_time(); });
    }
  }
}

void check_document(bson::View view) {
  if (bson::validate(view.bytes())) std::abort();  // the decoder accepted invalid BSON
  walk(view, 0);
  (void)view.to_json();
}

// The input as the handshake's reply: whatever the decoder accepts is one whole, valid
// document filling the message after the fixed fields.
void fuzz_op_reply(const std::uint8_t* data, std::size_t size, std::int32_t response_to) {
  wire::OpReply reply;
  wire::DecodeDiagnostics diagnostics;
  auto ec = wire::decode_op_reply(std::vector<std::uint8_t>(data, data + size), response_to,
                                  wire::kDefaultMaxMessageSize, reply, &diagnostics);
  if (ec) {
    (void)diagnostics.describe();
    return;
  }
  const bson::View document = reply.document();
  if (reply.bytes().size() != wire::kHeaderSize + wire::kOpReplyFixedSize + document.size()) {
    std::abort();  // the document must fill the message exactly
  }
  if ((reply.response_flags() & (wire::kReplyQueryFailure | wire::kReplyCursorNotFound)) != 0) {
    std::abort();  // the decoder accepted an error flag
  }
  check_document(document);
  read_like_the_driver(document);
}

void fuzz_op_msg(const std::vector<std::uint8_t>& bytes, std::int32_t response_to);

// The input as a compressed reply. A smaller maxMessageSizeBytes than the driver's keeps each
// run's allocation small; the limit's own check is exercised all the same.
constexpr std::size_t kFuzzMaxMessageSize = 1 << 20;

void fuzz_op_compressed(const std::uint8_t* data, std::size_t size, std::int32_t response_to) {
  if (size >= wire::kHeaderSize) {
    wire::MessageHeader header;
    (void)wire::parse_reply_header(std::span<const std::uint8_t, wire::kHeaderSize>(data, 16),
                                   kFuzzMaxMessageSize, header);
  }
  std::vector<std::uint8_t> original;
  wire::DecodeDiagnostics diagnostics;
  if (auto ec = wire::decode_op_compressed(std::span(data, size), wire::kOpMsg, kFuzzMaxMessageSize,
                                           original, &diagnostics)) {
    (void)diagnostics.describe();
    if (!original.empty()) std::abort();  // a refusal leaves nothing behind
    return;
  }
  // Accepted: the declared size exactly, within the limit, the header rebuilt around it.
  const auto declared = static_cast<std::size_t>(wire::read_i32(data + 20));
  if (original.size() != wire::kHeaderSize + declared || original.size() > kFuzzMaxMessageSize ||
      wire::read_i32(original.data()) != static_cast<std::int32_t>(original.size()) ||
      wire::read_i32(original.data() + 12) != wire::kOpMsg ||
      wire::read_i32(original.data() + 8) != response_to) {
    std::abort();
  }
  fuzz_op_msg(original, response_to);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size >= wire::kHeaderSize) {
    const std::span<const std::uint8_t, wire::kHeaderSize> bytes(data, wire::kHeaderSize);
    wire::MessageHeader header;
    wire::DecodeDiagnostics diagnostics;
    (void)wire::parse_header(bytes, wire::kDefaultMaxMessageSize, header, &diagnostics);
    (void)wire::parse_op_reply_header(bytes, wire::kDefaultMaxMessageSize, header, &diagnostics);
  }
  // The responseTo the message itself claims, so that fuzzing gets past that check.
  std::int32_t response_to = 0;
  if (size >= 12) {
    response_to = static_cast<std::int32_t>(data[8] | (data[9] << 8) | (data[10] << 16) |
                                            (static_cast<std::uint32_t>(data[11]) << 24));
  }
  fuzz_op_reply(data, size, response_to);
  fuzz_op_compressed(data, size, response_to);
  fuzz_op_msg(std::vector<std::uint8_t>(data, data + size), response_to);
  return 0;
}

namespace {

void fuzz_op_msg(const std::vector<std::uint8_t>& bytes, std::int32_t response_to) {
  // moreToCome allowed, so that the sections of such messages are fuzzed too.
  wire::OpMsg message;
  wire::DecodeDiagnostics diagnostics;
  auto ec = wire::decode_op_msg(bytes, response_to, wire::kDefaultMaxMessageSize, message,
                                &diagnostics, wire::MoreToCome::kAllowed);
  if (ec) {
    (void)diagnostics.describe();
    return;
  }
  // The driver decodes with moreToCome refused: that fails exactly when the flag is set.
  wire::OpMsg refused;
  auto refused_ec = wire::decode_op_msg(bytes, response_to, wire::kDefaultMaxMessageSize, refused);
  if (message.more_to_come() ? refused_ec != errc::unexpected_more_to_come : bool(refused_ec)) {
    std::abort();
  }
  check_document(message.body());
  read_like_the_driver(message.body());
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
}

}  // namespace
