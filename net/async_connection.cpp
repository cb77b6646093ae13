#include "net/async_connection.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <utility>

#include "net/async_dns_resolver.hpp"
#include "wire/error.hpp"
#include "wire/op_query.hpp"

namespace mongoslice {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto kTupleDeferred = asio::as_tuple(asio::deferred);

// Races `step` (a deferred operation completing with a tuple) against `timer`, set to expire at
// `at`: the loser is cancelled and awaited, so nothing is left running. Not a coroutine (no frame
// of its own): the caller co_awaits the group and reads whether the deadline won from the
// completion order. Cancellation of the awaiting coroutine reaches both.
template <typename Step>
auto race(Step step, std::optional<asio::steady_timer>& timer,
          const asio::any_io_executor& executor, SteadyClock::time_point at) {
  if (!timer) timer.emplace(executor);
  timer->expires_at(at);
  return asio::experimental::make_parallel_group(std::move(step), timer->async_wait(kTupleDeferred))
      .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
}

constexpr auto kTupleAwaitable = asio::as_tuple(asio::use_awaitable);

}  // namespace

Error cancelled_error(std::string_view what) {
  return Error(std::error_code(ECANCELED, std::system_category()),
               std::string(what) + ": cancelled");
}

AsyncConnection::AsyncConnection(executor_type executor, HostAndPort address,
                                 ConnectionOptions options)
    : executor_(std::move(executor)),
      address_(std::move(address)),
      options_(std::move(options)),
      socket_(executor_) {
}

void AsyncConnection::close() noexcept {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void AsyncConnection::fail(std::error_code code, const std::string& detail) {
  close();
  throw Error(code, detail);
}

void AsyncConnection::fail_step(const boost::system::error_code& ec, bool timed_out,
                                const Deadline& deadline, std::string_view doing) {
  const std::string where = std::string(doing) + " " + address_.to_string();
  close();
  if (timed_out) {
    throw Error(errc::timeout, where + " timed out after " +
                                   std::to_string(deadline.budget.count()) + " ms (" +
                                   std::string(deadline.source) + ")");
  }
  if (ec == asio::error::operation_aborted) throw cancelled_error(where);
  if (ec == asio::error::eof) {
    throw Error(errc::connection_closed, where + ": the server closed the connection");
  }
  throw Error(errc::network_error, where + ": " + ec.message());
}

asio::awaitable<std::vector<tcp::endpoint>> AsyncConnection::resolve(const Deadline& deadline) {
  // c-ares on this executor (IP literals come back at once), with the client's DNS servers.
  std::vector<asio::ip::address> addresses;
  try {
    addresses = co_await co_resolve(executor_, address_, options_.dns, deadline);
  } catch (...) {
    close();
    throw;
  }
  std::vector<tcp::endpoint> endpoints;
  for (const auto& address : addresses) endpoints.emplace_back(address, address_.port);
  co_return endpoints;
}

asio::awaitable<void> AsyncConnection::connect_one(const tcp::endpoint& endpoint,
                                                   const Deadline& deadline) {
  close();
  boost::system::error_code ec;
  bool timed_out = false;
  if (!deadline.at) {
    std::tie(ec) = co_await socket_.async_connect(endpoint, kTupleAwaitable);
  } else {
    auto [order, outcome, ignored] = co_await race(socket_.async_connect(endpoint, kTupleDeferred),
                                                   timer_, executor_, *deadline.at);
    std::tie(ec) = outcome;
    timed_out = order[0] == 1;
  }
  if (ec || timed_out) fail_step(ec, timed_out, deadline, "connecting to");
  socket_.set_option(tcp::no_delay(true), ec);
  if (ec) fail(errc::network_error, "setting TCP_NODELAY for " + address_.to_string());
}

asio::awaitable<void> AsyncConnection::connect(std::optional<Deadline> limit) {
  // connectTimeoutMS bounds the whole of it; 0 means "no limit" (URI options spec).
  auto deadline = options_.connect_timeout.count() > 0
                      ? Deadline::after(options_.connect_timeout, "connectTimeoutMS")
                      : Deadline::none();
  if (limit) deadline = Deadline::earlier(deadline, *limit);
  const auto endpoints = co_await resolve(deadline);
  // Each address in turn ("localhost" may give ::1 and 127.0.0.1); a timeout or a cancellation
  // ends the attempt, other failures move on to the next address.
  std::optional<Error> last;
  for (const auto& endpoint : endpoints) {
    try {
      co_await connect_one(endpoint, deadline);
      last.reset();
      break;
    } catch (const Error& e) {
      if (e.code() == errc::timeout || e.code().value() == ECANCELED) throw;
      last = e;
    }
  }
  if (last) throw *last;

  const HandshakeRequest request = make_handshake_request(options_.app_name);
  co_await write_all(request.message, deadline);
  auto bytes = co_await read_message(&wire::parse_op_reply_header, deadline);
  HelloFacts facts;
  try {
    facts = read_handshake_reply(std::move(bytes), request.request_id, options_.max_message_size,
                                 address_);
  } catch (...) {
    close();  // a connection whose handshake failed is of no use
    throw;
  }
  max_wire_version_ = facts.max_wire_version;
  max_bson_object_size_ = facts.max_bson_object_size;
  max_message_size_bytes_ = facts.max_message_size_bytes;
  max_write_batch_size_ = facts.max_write_batch_size;
  if (max_message_size_bytes_ > 0) options_.max_message_size = max_message_size_bytes_;
}

asio::awaitable<void> AsyncConnection::write_all(std::span<const std::uint8_t> bytes,
                                                 const Deadline& deadline) {
  if (!is_open()) fail(errc::connection_closed, "writing to " + address_.to_string() + ": closed");
  boost::system::error_code ec;
  bool timed_out = false;
  const auto buffer = asio::buffer(bytes.data(), bytes.size());
  if (!deadline.at) {
    std::tie(ec, std::ignore) = co_await asio::async_write(socket_, buffer, kTupleAwaitable);
  } else {
    auto [order, outcome, ignored] = co_await race(
        asio::async_write(socket_, buffer, kTupleDeferred), timer_, executor_, *deadline.at);
    std::tie(ec, std::ignore) = outcome;
    timed_out = order[0] == 1;
  }
  if (ec || timed_out) fail_step(ec, timed_out, deadline, "writing to");
}

asio::awaitable<std::vector<std::uint8_t>> AsyncConnection::read_message(HeaderCheck check_header,
                                                                         const Deadline& deadline) {
  // The header, then the rest in as few reads as the buffer's growth allows (most replies: one).
  // The reads are awaited here, not in a helper coroutine: every suspended operation keeps its
  // frames, and one frame fewer per level is memory per operation in flight.
  std::array<std::uint8_t, wire::kHeaderSize> header_bytes;
  std::vector<std::uint8_t> message;
  std::size_t length = 0;
  bool header_done = false;
  for (;;) {
    std::span<std::uint8_t> into;
    if (!header_done) {
      into = header_bytes;
    } else {
      if (message.size() >= length) break;
      const std::size_t have = message.size();
      message.resize(next_reply_size(have, length));
      into = std::span(message).subspan(have);
    }
    boost::system::error_code ec;
    bool timed_out = false;
    const auto buffer = asio::buffer(into.data(), into.size());
    if (!deadline.at) {
      std::tie(ec, std::ignore) = co_await asio::async_read(socket_, buffer, kTupleAwaitable);
    } else {
      auto [order, outcome, ignored] = co_await race(
          asio::async_read(socket_, buffer, kTupleDeferred), timer_, executor_, *deadline.at);
      std::tie(ec, std::ignore) = outcome;
      timed_out = order[0] == 1;
    }
    if (ec || timed_out) {
      fail_step(ec, timed_out, deadline,
                header_done ? "reading the reply from" : "reading the reply header from");
    }
    if (header_done) continue;
    header_done = true;
    wire::MessageHeader header;
    wire::DecodeDiagnostics diagnostics;
    if (auto check = check_header(header_bytes, options_.max_message_size, header, &diagnostics)) {
      fail(check, "the reply header from " + address_.to_string() + ": " + diagnostics.describe());
    }
    length = static_cast<std::size_t>(header.message_length);
    message = std::move(reply_buffer_);
    message.clear();
    message.reserve(next_reply_size(0, length));
    message.assign(header_bytes.begin(), header_bytes.end());
  }
  co_return message;
}

asio::awaitable<bson::Document> AsyncConnection::run_command(
    std::string_view db, bson::View command, std::span<const wire::DocumentSequence> sequences,
    std::optional<Deadline> limit) {
  const Deadline deadline =
      limit ? *limit : Deadline::after(options_.socket_timeout, "socketTimeoutMS");
  const std::int32_t request_id = next_request_id();
  // Throws before anything is sent: the connection is still good.
  auto message =
      encode_command(request_id, db, command, sequences, options_.max_message_size, address_);
  co_await write_all(message, deadline);
  auto bytes = co_await read_message(&wire::parse_header, deadline);
  std::optional<wire::OpMsg> reply;
  try {
    reply = decode_command_reply(std::move(bytes), request_id, options_.max_message_size, address_);
  } catch (const Error& e) {
    fail(e.code(), e.what());
  }
  bson::Document result(reply->body());
  if (auto kept = std::move(*reply).take_bytes(); kept.capacity() <= 64 * 1024) {
    reply_buffer_ = std::move(kept);
  }
  try {
    check_command_reply(result.view(), address_);
  } catch (const ServerError&) {
    throw;  // a well-formed answer: the connection stays usable
  } catch (const Error& e) {
    fail(e.code(), e.what());
  }
  co_return result;
}

}  // namespace mongoslice
