// A loopback server for bench/run_async.sh that answers with canned replies, fast enough that the
// clients under test are the bottleneck. It speaks just enough of the wire protocol for
// mongoslice, libmongoc and PyMongo to take it for a standalone mongod:
//
//   OP_QUERY (the legacy first handshake)  hello / isMaster: the hello reply in an OP_REPLY,
//                                          anything else: {ok: 1}
//   OP_MSG                                 hello / isMaster: the hello reply; find: one document
//                                          {_id: <the filter's _id>, x: "..."} in firstBatch with
//                                          cursor id 0; anything else (ping, buildInfo,
//                                          endSessions, killCursors, ...): {ok: 1}
//
// The hello reply has no topologyVersion (so no client streams its heartbeats), no compression
// (so nobody sends OP_COMPRESSED) and no setName or msg (a standalone). It has
// logicalSessionTimeoutMinutes, as a real server has, so the drivers attach implicit sessions as
// they would against mongod. Other opcodes, and an OP_MSG whose checksum flag is set, close the
// connection.
//
//   bench_replay_server PORT [THREADS [DOCUMENT_JSON COUNT]]
//
// With DOCUMENT_JSON and COUNT (bench/driverbench/run.py: tweet.json and 10,000) the server holds
// a canned collection of COUNT copies of that document, with _id 1..COUNT, built once at start:
// a find whose filter has an _id gets that copy (in firstBatch, cursor id 0); a find without one
// opens a cursor over the COUNT copies: firstBatch holds batchSize (default 101) of them, each
// getMore the next batchSize (default: as many as fit in 16 MiB), the last batch has cursor id 0.
//
// PORT 0 picks a free port. Prints "port <n>" on stdout once listening, then serves until killed.
// THREADS (default 1) threads run one io_context (epoll); each connection has at most one read or
// one write outstanding, so its handlers never run concurrently.

#include <bson/bson.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr std::int32_t kOpReply = 1;
constexpr std::int32_t kOpQuery = 2004;
constexpr std::int32_t kOpMsg = 2013;
constexpr std::int32_t kMaxMessage = 48'000'000;

std::int32_t read_i32(const std::uint8_t* p) {
  std::uint32_t v = std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
                    std::uint32_t{p[3]} << 24;
  return static_cast<std::int32_t>(v);
}

void append_i32(std::vector<std::uint8_t>& out, std::int32_t value) {
  auto v = static_cast<std::uint32_t>(value);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void append_i64(std::vector<std::uint8_t>& out, std::int64_t value) {
  auto v = static_cast<std::uint64_t>(value);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void patch_i32(std::vector<std::uint8_t>& out, std::size_t at, std::int32_t value) {
  auto v = static_cast<std::uint32_t>(value);
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::atomic<std::int32_t> next_connection_id{1};

// The hello reply for one connection (connectionId differs; the rest is the same).
void build_hello(bson_t* doc, std::int32_t connection_id) {
  BSON_APPEND_BOOL(doc, "helloOk", true);
  BSON_APPEND_BOOL(doc, "ismaster", true);
  BSON_APPEND_BOOL(doc, "isWritablePrimary", true);
  BSON_APPEND_INT32(doc, "maxBsonObjectSize", 16 * 1024 * 1024);
  BSON_APPEND_INT32(doc, "maxMessageSizeBytes", kMaxMessage);
  BSON_APPEND_INT32(doc, "maxWriteBatchSize", 100000);
  BSON_APPEND_DATE_TIME(doc, "localTime", static_cast<std::int64_t>(time(nullptr)) * 1000);
  BSON_APPEND_INT32(doc, "logicalSessionTimeoutMinutes", 30);
  BSON_APPEND_INT32(doc, "connectionId", connection_id);
  BSON_APPEND_INT32(doc, "minWireVersion", 0);
  BSON_APPEND_INT32(doc, "maxWireVersion", 21);
  BSON_APPEND_BOOL(doc, "readOnly", false);
  BSON_APPEND_DOUBLE(doc, "ok", 1.0);
}

bool is_hello(std::string_view name) {
  auto equals_ci = [&](std::string_view other) {
    if (name.size() != other.size()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
      char c = name[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != other[i]) return false;
    }
    return true;
  };
  return equals_ci("hello") || equals_ci("ismaster");
}

// The value the find reply carries in x: a short string, as a small document would have.
constexpr const char* kPayload = "replayed document from bench_replay_server";

// The canned collection (DOCUMENT_JSON COUNT): copy i (0-based) has _id i + 1. Read-only after
// main() builds it, so sessions on any thread share it.
// (Wrapped: bson_t's alignment attribute is lost on a std::vector<bson_t*> argument.)
struct CannedDocument {
  bson_t* doc;
};
std::vector<CannedDocument> canned;
constexpr std::size_t kMaxBatchBytes = 16 * 1024 * 1024;

// A canned document whose _id equals `id` (an integer), or null.
const bson_t* canned_by_id(const bson_iter_t& id) {
  if (!BSON_ITER_HOLDS_NUMBER(&id)) return nullptr;
  const std::int64_t n = bson_iter_as_int64(&id);
  if (n < 1 || n > static_cast<std::int64_t>(canned.size())) return nullptr;
  return canned[static_cast<std::size_t>(n - 1)].doc;
}

// The batch size a find or getMore asks for (0: none given).
std::int64_t batch_size_of(const bson_t* command) {
  bson_iter_t it;
  if (bson_iter_init_find(&it, command, "batchSize") && BSON_ITER_HOLDS_NUMBER(&it)) {
    return std::max<std::int64_t>(0, bson_iter_as_int64(&it));
  }
  return 0;
}

// Appends canned documents from `next` on to `batch`, at most `limit` (0: no limit) and 16 MiB,
// and returns the index after the last one appended.
std::size_t append_canned(bson_t* batch, std::size_t next, std::int64_t limit) {
  std::size_t bytes = 0, n = 0;
  char key[16];
  while (next < canned.size() && (limit == 0 || static_cast<std::int64_t>(n) < limit)) {
    const bson_t* doc = canned[next].doc;
    if (n > 0 && bytes + doc->len > kMaxBatchBytes) break;
    const char* key_ptr;
    const std::size_t key_len =
        bson_uint32_to_string(static_cast<std::uint32_t>(n), &key_ptr, key, sizeof key);
    bson_append_document(batch, key_ptr, static_cast<int>(key_len), doc);
    bytes += doc->len;
    ++n;
    ++next;
  }
  return next;
}

// One connection's open cursor over the canned collection (the next document to send), if any.
struct CannedCursor {
  std::int64_t id = 0;
  std::size_t next = 0;
};

std::string namespace_of(const bson_t* command, bson_iter_t it) {
  std::string ns;
  if (BSON_ITER_HOLDS_UTF8(&it)) {
    bson_iter_t db;
    if (bson_iter_init_find(&db, command, "$db") && BSON_ITER_HOLDS_UTF8(&db)) {
      ns = std::string(bson_iter_utf8(&db, nullptr)) + ".";
    }
    ns += bson_iter_utf8(&it, nullptr);
  } else {
    ns = "bench.c";
  }
  return ns;
}

// find and getMore against the canned collection.
void build_canned_reply(const bson_t* command, std::string_view name, CannedCursor& cursor_state,
                        bson_t* reply) {
  bson_iter_t it;
  bson_iter_init(&it, command);
  bson_iter_next(&it);
  const std::string ns = namespace_of(command, it);
  bson_t cursor, batch;
  BSON_APPEND_DOCUMENT_BEGIN(reply, "cursor", &cursor);
  std::int64_t id = 0;
  bson_iter_t id_filter;
  if (name == "find" && bson_iter_init(&it, command) &&
      bson_iter_find_descendant(&it, "filter._id", &id_filter)) {
    BSON_APPEND_ARRAY_BEGIN(&cursor, "firstBatch", &batch);
    if (const bson_t* doc = canned_by_id(id_filter)) BSON_APPEND_DOCUMENT(&batch, "0", doc);
    bson_append_array_end(&cursor, &batch);
  } else if (name == "find") {
    std::int64_t limit = batch_size_of(command);
    BSON_APPEND_ARRAY_BEGIN(&cursor, "firstBatch", &batch);
    cursor_state.next = append_canned(&batch, 0, limit == 0 ? 101 : limit);
    bson_append_array_end(&cursor, &batch);
    if (cursor_state.next < canned.size()) id = cursor_state.id = cursor_state.id + 1;
  } else {  // getMore
    BSON_APPEND_ARRAY_BEGIN(&cursor, "nextBatch", &batch);
    bson_iter_t requested;
    if (bson_iter_init_find(&requested, command, "getMore") &&
        bson_iter_as_int64(&requested) == cursor_state.id && cursor_state.id != 0) {
      cursor_state.next = append_canned(&batch, cursor_state.next, batch_size_of(command));
      if (cursor_state.next < canned.size()) id = cursor_state.id;
    }
    bson_append_array_end(&cursor, &batch);
  }
  BSON_APPEND_INT64(&cursor, "id", id);
  BSON_APPEND_UTF8(&cursor, "ns", ns.c_str());
  bson_append_document_end(reply, &cursor);
  BSON_APPEND_DOUBLE(reply, "ok", 1.0);
}

// Builds the reply body for `command`; `connection_id` is for hello.
void build_reply(const bson_t* command, std::int32_t connection_id, CannedCursor& cursor_state,
                 bson_t* reply) {
  bson_iter_t it;
  if (!bson_iter_init(&it, command) || !bson_iter_next(&it)) {
    BSON_APPEND_DOUBLE(reply, "ok", 1.0);
    return;
  }
  std::string_view name = bson_iter_key(&it);
  if (is_hello(name)) {
    build_hello(reply, connection_id);
    return;
  }
  if (!canned.empty() && (name == "find" || name == "getMore")) {
    build_canned_reply(command, name, cursor_state, reply);
    return;
  }
  if (name != "find") {
    BSON_APPEND_DOUBLE(reply, "ok", 1.0);
    return;
  }
  const std::string ns = namespace_of(command, it);
  bson_t cursor, batch, doc;
  BSON_APPEND_DOCUMENT_BEGIN(reply, "cursor", &cursor);
  BSON_APPEND_ARRAY_BEGIN(&cursor, "firstBatch", &batch);
  BSON_APPEND_DOCUMENT_BEGIN(&batch, "0", &doc);
  bson_iter_t id;
  if (bson_iter_init(&it, command) && bson_iter_find_descendant(&it, "filter._id", &id)) {
    bson_append_iter(&doc, "_id", 3, &id);
  } else {
    BSON_APPEND_INT32(&doc, "_id", 1);
  }
  BSON_APPEND_UTF8(&doc, "x", kPayload);
  bson_append_document_end(&batch, &doc);
  bson_append_array_end(&cursor, &batch);
  BSON_APPEND_INT64(&cursor, "id", 0);
  BSON_APPEND_UTF8(&cursor, "ns", ns.c_str());
  bson_append_document_end(reply, &cursor);
  BSON_APPEND_DOUBLE(reply, "ok", 1.0);
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket)
      : socket_(std::move(socket)), connection_id_(next_connection_id++) {
    in_.resize(64 * 1024);
  }

  void start() { read(); }

 private:
  void read() {
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(in_.data() + filled_, in_.size() - filled_),
                            [self](boost::system::error_code ec, std::size_t n) {
                              if (ec) return;
                              self->filled_ += n;
                              self->process();
                            });
  }

  // Answers every complete message in the buffer, then writes the replies (or reads on).
  void process() {
    std::size_t at = 0;
    out_.clear();
    while (filled_ - at >= 16) {
      const std::uint8_t* header = in_.data() + at;
      std::int32_t length = read_i32(header);
      if (length < 16 || length > kMaxMessage) return close();
      if (filled_ - at < static_cast<std::size_t>(length)) {
        if (static_cast<std::size_t>(length) > in_.size()) in_.resize(length);
        break;
      }
      if (!answer(header, static_cast<std::size_t>(length))) return close();
      at += static_cast<std::size_t>(length);
    }
    if (at > 0) {
      std::memmove(in_.data(), in_.data() + at, filled_ - at);
      filled_ -= at;
    }
    if (out_.empty()) return read();
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(out_),
                      [self](boost::system::error_code ec, std::size_t) {
                        if (ec) return;
                        // A client sends its next request only after this reply; anything
                        // already buffered is answered first.
                        if (self->filled_ >= 16) return self->process();
                        self->read();
                      });
  }

  // Appends the reply to one message to out_; false for a message this server does not speak.
  bool answer(const std::uint8_t* message, std::size_t length) {
    const std::int32_t request_id = read_i32(message + 4);
    const std::int32_t opcode = read_i32(message + 12);
    const std::uint8_t* body = message + 16;
    const std::size_t body_length = length - 16;
    bson_t command;
    std::int32_t flags = 0;
    if (opcode == kOpMsg) {
      // flagBits, then sections; the command is the kind-0 section, which drivers send first.
      if (body_length < 5 + 5) return false;
      flags = read_i32(body);
      if (flags & 1) return false;  // checksumPresent: not negotiated, not expected
      if (body[4] != 0) return false;
      std::int32_t doc_length = read_i32(body + 5);
      if (doc_length < 5 || static_cast<std::size_t>(doc_length) > body_length - 5) return false;
      if (!bson_init_static(&command, body + 5, static_cast<std::size_t>(doc_length))) {
        return false;
      }
    } else if (opcode == kOpQuery) {
      // flags, fullCollectionName (cstring), numberToSkip, numberToReturn, query.
      if (body_length < 4) return false;
      const void* name_end = std::memchr(body + 4, 0, body_length - 4);
      if (!name_end) return false;
      std::size_t doc_at = static_cast<const std::uint8_t*>(name_end) - body + 1 + 8;
      if (doc_at + 5 > body_length) return false;
      std::int32_t doc_length = read_i32(body + doc_at);
      if (doc_length < 5 || static_cast<std::size_t>(doc_length) > body_length - doc_at) {
        return false;
      }
      if (!bson_init_static(&command, body + doc_at, static_cast<std::size_t>(doc_length))) {
        return false;
      }
    } else {
      return false;
    }
    // moreToCome from the client: it wants no reply.
    if (opcode == kOpMsg && (flags & 2)) return true;

    bson_t reply;
    bson_init(&reply);
    build_reply(&command, connection_id_, cursor_, &reply);
    const std::size_t start = out_.size();
    append_i32(out_, 0);  // messageLength, patched below
    append_i32(out_, 0);  // requestID
    append_i32(out_, request_id);
    if (opcode == kOpMsg) {
      append_i32(out_, kOpMsg);
      append_i32(out_, 0);  // flagBits
      out_.push_back(0);    // section kind 0
    } else {
      append_i32(out_, kOpReply);
      append_i32(out_, 0);  // responseFlags
      append_i64(out_, 0);  // cursorID
      append_i32(out_, 0);  // startingFrom
      append_i32(out_, 1);  // numberReturned
    }
    const std::uint8_t* data = bson_get_data(&reply);
    out_.insert(out_.end(), data, data + reply.len);
    bson_destroy(&reply);
    patch_i32(out_, start, static_cast<std::int32_t>(out_.size() - start));
    return true;
  }

  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  tcp::socket socket_;
  std::int32_t connection_id_;
  CannedCursor cursor_;
  std::vector<std::uint8_t> in_;
  std::size_t filled_ = 0;
  std::vector<std::uint8_t> out_;
};

void accept(tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](boost::system::error_code ec, tcp::socket socket) {
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(socket))->start();
    }
    accept(acceptor);
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3 && argc != 5) {
    std::fprintf(stderr, "usage: %s PORT [THREADS [DOCUMENT_JSON COUNT]]\n", argv[0]);
    return 2;
  }
  const long port = std::strtol(argv[1], nullptr, 10);
  const long threads = argc >= 3 ? std::strtol(argv[2], nullptr, 10) : 1;
  if (argc == 5) {
    bson_error_t error;
    std::string json;
    if (FILE* f = std::fopen(argv[3], "rb")) {
      char chunk[4096];
      for (std::size_t n; (n = std::fread(chunk, 1, sizeof chunk, f)) > 0;) json.append(chunk, n);
      std::fclose(f);
    }
    bson_t* source = bson_new_from_json(reinterpret_cast<const std::uint8_t*>(json.data()),
                                        static_cast<ssize_t>(json.size()), &error);
    const long count = std::strtol(argv[4], nullptr, 10);
    if (!source || count < 1 || count > 10'000'000) {
      std::fprintf(stderr, "%s: %s (COUNT must be in 1..10000000)\n", argv[3],
                   source ? "bad COUNT" : error.message);
      return 2;
    }
    for (long i = 1; i <= count; ++i) {
      bson_t* doc = bson_new();
      BSON_APPEND_INT32(doc, "_id", static_cast<std::int32_t>(i));
      bson_iter_t it;
      bson_iter_init(&it, source);
      while (bson_iter_next(&it)) {
        if (std::strcmp(bson_iter_key(&it), "_id") != 0) bson_append_iter(doc, nullptr, 0, &it);
      }
      canned.push_back({doc});
    }
    bson_destroy(source);
  }
  if (port < 0 || port > 65535 || threads < 1 || threads > 64) {
    std::fprintf(stderr, "PORT must be in 0..65535, THREADS in 1..64\n");
    return 2;
  }
  asio::io_context io(static_cast<int>(threads));
  tcp::acceptor acceptor(io);
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port));
  acceptor.open(endpoint.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(4096);
  std::printf("port %u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
  std::fflush(stdout);
  accept(acceptor);

  std::vector<std::thread> pool;
  for (long i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  return 0;
}
