// OP_MSG encode and decode throughput on one ~16 MB cursor reply, next to memcpy of the same
// bytes. Decoding validates every byte (lengths, types, UTF-8), so memcpy is the floor it is
// measured against; the goal is decode within 3x of memcpy.
//
//   build-wire/bench/bench_wire_codec --benchmark_repetitions=5 \
//       --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>
#include <bson/bson.h>

#include <cstring>
#include <string>
#include <vector>

#include "wire/bson.hpp"
#include "wire/crc32c.hpp"
#include "wire/op_msg.hpp"

namespace {

using namespace mongoslice;

constexpr int kDocuments = 16'000;

// One ~1 KB document: strings (mostly ASCII, some accented text), ints, doubles, a nested
// document and a small array, like a typical user record.
void append_document(bson::Builder& builder, int i) {
  const std::string name = "user-" + std::to_string(i) + "-of-the-benchmark-collection";
  std::string bio;
  while (bio.size() < 650) bio += "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ";
  bio += "Café, naïve, Zürich, 東京. ";
  builder.open_document(std::to_string(i))
      .append("_id", std::int64_t{i})
      .append("name", name)
      .append("email", "user" + std::to_string(i) + "@example.com")
      .append("age", std::int32_t{20 + i % 50})
      .append("score", 1.5 * i)
      .append("balance", 1000.25 + i)
      .append("active", i % 3 != 0)
      .append("bio", bio)
      .open_document("address")
      .append("street", std::to_string(i) + " Long Benchmark Street")
      .append("city", "Springfield")
      .append("zip", std::int32_t{10000 + i % 90000})
      .open_array("geo")
      .append_value(48.8566 + i * 1e-6)
      .append_value(2.3522 - i * 1e-6)
      .close()
      .close()
      .open_array("tags")
      .append_value("alpha")
      .append_value("beta")
      .append_value("gamma")
      .close()
      .append("visits", std::int64_t{i} * 17)
      .close();
}

const bson::Document& reply_body() {
  static const bson::Document body = [] {
    bson::Builder builder;
    builder.open_document("cursor").append("id", std::int64_t{0}).append("ns", "db.c");
    builder.open_array("firstBatch");
    for (int i = 0; i < kDocuments; ++i) append_document(builder, i);
    builder.close().close().append("ok", 1.0);
    return builder.build();
  }();
  return body;
}

std::vector<std::uint8_t> reply_message(std::uint32_t flags) {
  std::vector<std::uint8_t> message = wire::encode_op_msg(1, reply_body(), flags);
  message[8] = 7;  // responseTo 7, as a reply to request 7
  if (flags & wire::kChecksumPresent) {
    std::uint32_t crc = wire::crc32c({message.data(), message.size() - 4});
    std::memcpy(message.data() + message.size() - 4, &crc, 4);  // little-endian host
  }
  return message;
}

void BM_Memcpy(benchmark::State& state) {
  const auto source = reply_message(0);
  std::vector<std::uint8_t> destination(source.size());
  for (auto _ : state) {
    std::memcpy(destination.data(), source.data(), source.size());
    benchmark::DoNotOptimize(destination.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * source.size()));
  state.counters["message_bytes"] = static_cast<double>(source.size());
}
BENCHMARK(BM_Memcpy)->Unit(benchmark::kMillisecond);

// A tighter floor than memcpy, which also writes: one read of every byte (8 at a time, summed
// so that the loads cannot be left out).
void BM_ReadOnlyPass(benchmark::State& state) {
  const auto source = reply_message(0);
  for (auto _ : state) {
    std::uint64_t sum = 0;
    std::size_t i = 0;
    for (; i + 8 <= source.size(); i += 8) {
      std::uint64_t word;
      std::memcpy(&word, source.data() + i, 8);
      sum += word;
    }
    for (; i < source.size(); ++i) sum += source[i];
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * source.size()));
}
BENCHMARK(BM_ReadOnlyPass)->Unit(benchmark::kMillisecond);

void BM_Encode(benchmark::State& state) {
  const bson::View body = reply_body();
  std::size_t size = 0;
  for (auto _ : state) {
    auto message = wire::encode_op_msg(1, body);
    size = message.size();
    benchmark::DoNotOptimize(message.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}
BENCHMARK(BM_Encode)->Unit(benchmark::kMillisecond);

// Decoding takes the buffer by value; take_bytes() hands it back, so no copy is timed.
void decode_loop(benchmark::State& state, std::uint32_t flags) {
  auto buffer = reply_message(flags);
  const std::size_t size = buffer.size();
  for (auto _ : state) {
    wire::OpMsg message;
    if (wire::decode_op_msg(std::move(buffer), 7, wire::kDefaultMaxMessageSize, message)) {
      state.SkipWithError("decode failed");
      return;
    }
    benchmark::DoNotOptimize(message.body().data());
    buffer = std::move(message).take_bytes();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
  state.counters["documents"] = kDocuments;
}

void BM_Decode(benchmark::State& state) {
  decode_loop(state, 0);
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond);

void BM_DecodeWithChecksum(benchmark::State& state) {
  decode_loop(state, wire::kChecksumPresent);
}
BENCHMARK(BM_DecodeWithChecksum)->Unit(benchmark::kMillisecond);

// For reference: libbson 1.23's own validator on the same body. With BSON_VALIDATE_UTF8 it
// checks the UTF-8 of every string (each string twice in 1.23) but does not descend into
// code-with-scope; BSON_VALIDATE_NONE (below) checks the structure only.
void BM_LibbsonValidateUtf8(benchmark::State& state) {
  const bson::View body = reply_body();
  for (auto _ : state) {
    bson_t doc = body.as_bson_t();
    std::size_t offset = 0;
    benchmark::DoNotOptimize(bson_validate(&doc, BSON_VALIDATE_UTF8, &offset));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_LibbsonValidateUtf8)->Unit(benchmark::kMillisecond);

void BM_LibbsonValidateNone(benchmark::State& state) {
  const bson::View body = reply_body();
  for (auto _ : state) {
    bson_t doc = body.as_bson_t();
    std::size_t offset = 0;
    benchmark::DoNotOptimize(bson_validate(&doc, BSON_VALIDATE_NONE, &offset));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_LibbsonValidateNone)->Unit(benchmark::kMillisecond);

void BM_Crc32c(benchmark::State& state) {
  const auto message = reply_message(0);
  for (auto _ : state) benchmark::DoNotOptimize(wire::crc32c(message));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * message.size()));
  state.SetLabel(wire::crc32c_hardware_available() ? "sse4.2" : "table");
}
BENCHMARK(BM_Crc32c)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
