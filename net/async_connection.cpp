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

#include "wire/error.hpp"
#include "wire/op_query.hpp"

namespace mongoslice {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto kTupleDeferred = asio::as_tuple(asio::deferred);

// What a deferred step yields when awaited: its completion arguments as a tuple.
template <typename Step>
using StepResult = typename decltype(std::declval<Step>()(asio::use_awaitable))::value_type;

// Runs `step` (a deferred operation completing with a tuple) until it completes or `deadline`
// passes, whichever is first; the loser is cancelled and awaited, so nothing is left running.
// Yields the step's result and whether the deadline won. Cancellation of the awaiting coroutine
// reaches the step (as operation_aborted in its result).
template <typename Step>
asio::awaitable<std::pair<StepResult<Step>, bool>> within(Step step,
                                                          std::optional<asio::steady_timer>& timer,
                                                          const asio::any_io_executor& executor,
                                                          const Deadline& deadline) {
  if (!deadline.at) {
    // Named: GCC 12 mishandles a co_await inside a braced co_return.
    StepResult<Step> result = co_await std::move(step)(asio::use_awaitable);
    co_return std::pair<StepResult<Step>, bool>(std::move(result), false);
  }
  if (!timer) timer.emplace(executor);
  timer->expires_at(*deadline.at);
  auto [order, result, timer_result] =
      co_await asio::experimental::make_parallel_group(std::move(step),
                                                       timer->async_wait(kTupleDeferred))
          .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
  (void)timer_result;
  const bool timed_out = order[0] == 1;
  co_return std::pair<StepResult<Step>, bool>(std::move(result), timed_out);
}

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
  boost::system::error_code ec;
  const auto numeric = asio::ip::make_address(address_.host, ec);
  if (!ec) co_return std::vector<tcp::endpoint>{tcp::endpoint(numeric, address_.port)};
  tcp::resolver resolver(executor_);
  auto [outcome, timed_out] = co_await within(
      resolver.async_resolve(address_.host, std::to_string(address_.port), kTupleDeferred), timer_,
      executor_, deadline);
  auto& [resolve_ec, results] = outcome;
  if (resolve_ec || timed_out) fail_step(resolve_ec, timed_out, deadline, "resolving");
  std::vector<tcp::endpoint> endpoints;
  for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  if (endpoints.empty()) fail(errc::network_error, "resolving " + address_.host + ": no address");
  co_return endpoints;
}

asio::awaitable<void> AsyncConnection::connect_one(const tcp::endpoint& endpoint,
                                                   const Deadline& deadline) {
  close();
  auto [outcome, timed_out] =
      co_await within(socket_.async_connect(endpoint, kTupleDeferred), timer_, executor_, deadline);
  auto [ec] = outcome;
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
  auto [outcome, timed_out] = co_await within(
      asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()), kTupleDeferred), timer_,
      executor_, deadline);
  auto [ec, written] = outcome;
  (void)written;
  if (ec || timed_out) fail_step(ec, timed_out, deadline, "writing to");
}

asio::awaitable<void> AsyncConnection::read_exact(std::span<std::uint8_t> into,
                                                  const Deadline& deadline, std::string_view what) {
  auto [outcome, timed_out] = co_await within(
      asio::async_read(socket_, asio::buffer(into.data(), into.size()), kTupleDeferred), timer_,
      executor_, deadline);
  auto [ec, read] = outcome;
  (void)read;
  if (ec || timed_out) {
    fail_step(ec, timed_out, deadline, "reading " + std::string(what) + " from");
  }
}

asio::awaitable<std::vector<std::uint8_t>> AsyncConnection::read_message(HeaderCheck check_header,
                                                                         const Deadline& deadline) {
  std::array<std::uint8_t, wire::kHeaderSize> header_bytes;
  co_await read_exact(header_bytes, deadline, "the reply header");
  wire::MessageHeader header;
  wire::DecodeDiagnostics diagnostics;
  if (auto ec = check_header(header_bytes, options_.max_message_size, header, &diagnostics)) {
    fail(ec, "the reply header from " + address_.to_string() + ": " + diagnostics.describe());
  }
  const auto length = static_cast<std::size_t>(header.message_length);
  std::vector<std::uint8_t> message = std::move(reply_buffer_);
  message.clear();
  message.reserve(next_reply_size(0, length));
  message.assign(header_bytes.begin(), header_bytes.end());
  while (message.size() < length) {
    const std::size_t have = message.size();
    message.resize(next_reply_size(have, length));
    co_await read_exact(std::span(message).subspan(have), deadline, "the reply");
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
