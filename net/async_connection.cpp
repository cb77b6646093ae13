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
auto race(Step step, std::unique_ptr<asio::steady_timer>& timer,
          const asio::any_io_executor& executor, SteadyClock::time_point at) {
  if (!timer) timer = std::make_unique<asio::steady_timer>(executor);
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

AsyncConnection::AsyncConnection(const executor_type& executor, HostAndPort address,
                                 std::shared_ptr<const ConnectionOptions> options)
    : address_(std::move(address)),
      options_(std::move(options)),
      socket_(executor),
      max_message_size_(options_->max_message_size) {
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
  if (!timed_out && tls_ && is_tls_error(ec)) {
    // What the TLS stream says (an alert, a truncated record), in words, before it is closed.
    std::string what =
        describe_tls_failure(ec, tls_->native_handle(), *tls_context_, address_, doing);
    close();
    throw Error(tls_failure_code(ec), what);
  }
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
    addresses = co_await co_resolve(executor(), address_, options_->dns, deadline);
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
                                                   timer_, executor(), *deadline.at);
    std::tie(ec) = outcome;
    timed_out = order[0] == 1;
  }
  if (ec || timed_out) fail_step(ec, timed_out, deadline, "connecting to");
  socket_.set_option(tcp::no_delay(true), ec);
  if (ec) fail(errc::network_error, "setting TCP_NODELAY for " + address_.to_string());
}

asio::awaitable<void> AsyncConnection::connect(std::optional<Deadline> limit) {
  // connectTimeoutMS bounds the whole of it; 0 means "no limit" (URI options spec).
  auto deadline = options_->connect_timeout.count() > 0
                      ? Deadline::after(options_->connect_timeout, "connectTimeoutMS")
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

  if (options_->tls) co_await start_tls(deadline);

  std::optional<auth::Authenticator> authenticator;
  if (options_->credential) {
    authenticator.emplace(*options_->credential, auth::AuthOptions{{}, options_->key_cache});
  }
  HandshakeRequest request = make_handshake_request(
      options_->app_name, authenticator ? &*authenticator : nullptr, options_->compressors);
  Exchange exchange;
  exchange.message = std::move(request.message);
  exchange.check = &wire::parse_op_reply_header;
  exchange.deadline = deadline;
  co_await async_exchange(exchange, asio::deferred);
  HelloFacts facts;
  try {
    facts = read_handshake_reply(std::move(exchange.reply), request.request_id, max_message_size_,
                                 address_);
  } catch (...) {
    close();  // a connection whose handshake failed is of no use
    throw;
  }
  max_wire_version_ = facts.max_wire_version;
  max_bson_object_size_ = facts.max_bson_object_size;
  max_message_size_bytes_ = facts.max_message_size_bytes;
  max_write_batch_size_ = facts.max_write_batch_size;
  compression_.reset();
  if (auto chosen = negotiated_compressor(facts.reply.view(), options_->compressors)) {
    compression_ = wire::Compression{*chosen, options_->zlib_compression_level};
  }
  if (max_message_size_bytes_ > 0) {
    max_message_size_ = static_cast<std::size_t>(max_message_size_bytes_);
  }
  if (authenticator) co_await authenticate(*authenticator, facts.reply.view(), deadline);
  // The connect deadline's timer is not kept for the connection's life: most connections have
  // no socketTimeoutMS, and those that do make it again on their first exchange.
  timer_.reset();
}

asio::awaitable<void> AsyncConnection::start_tls(const Deadline& deadline) {
  try {
    tls_context_ = TlsContext::shared(*options_->tls);
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, tls_context_->native());
    prepare_client_stream(tls_->native_handle(), *tls_context_, address_);
  } catch (...) {
    close();
    throw;
  }
  boost::system::error_code ec;
  bool timed_out = false;
  if (!deadline.at) {
    std::tie(ec) = co_await tls_->async_handshake(asio::ssl::stream_base::client, kTupleAwaitable);
  } else {
    auto [order, outcome, ignored] =
        co_await race(tls_->async_handshake(asio::ssl::stream_base::client, kTupleDeferred), timer_,
                      executor(), *deadline.at);
    std::tie(ec) = outcome;
    timed_out = order[0] == 1;
  }
  if (timed_out) {
    close();
    throw Error(errc::timeout, "TLS handshake with " + address_.to_string() + " timed out after " +
                                   std::to_string(deadline.budget.count()) + " ms (" +
                                   std::string(deadline.source) +
                                   "): the server accepted the TCP connection but did not answer "
                                   "in TLS");
  }
  if (ec && is_tls_error(ec)) {
    std::string what = describe_tls_failure(ec, tls_->native_handle(), *tls_context_, address_,
                                            "TLS handshake with");
    close();
    throw Error(tls_failure_code(ec), what);
  }
  if (ec) fail_step(ec, false, deadline, "TLS handshake with");
}

asio::awaitable<void> AsyncConnection::authenticate(auth::Authenticator& authenticator,
                                                    bson::View hello_reply,
                                                    const Deadline& deadline) {
  // As the blocking engine: round trips of the handshake, within its deadline; any failure
  // (a ServerError included) leaves the connection of no use.
  std::exception_ptr failure;
  try {
    auth::Step step = authenticator.on_hello_reply(hello_reply);
    while (auto* command = std::get_if<auth::Command>(&step)) {
      Exchange exchange = prepare_command(command->db, command->body.view(), {}, deadline);
      co_await async_exchange(exchange, asio::deferred);
      const bson::Document reply = finish_command(exchange);
      step = authenticator.feed(reply.view());
    }
  } catch (Error& e) {
    e.mark_during_authentication();  // the object in flight: rethrown below as it is
    failure = std::current_exception();
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    close();
    std::rethrow_exception(failure);
  }
}

AsyncConnection::Exchange AsyncConnection::prepare_command(
    std::string_view db, bson::View command, std::span<const wire::DocumentSequence> sequences,
    std::optional<Deadline> limit) {
  // Checked here, before async_exchange starts, so that the exchange never completes inside
  // its own initiation.
  if (!is_open()) fail(errc::connection_closed, "writing to " + address_.to_string() + ": closed");
  Exchange exchange;
  exchange.deadline = limit ? *limit : Deadline::after(options_->socket_timeout, "socketTimeoutMS");
  exchange.request_id = next_request_id();
  exchange.message = encode_command(exchange.request_id, db, command, sequences, max_message_size_,
                                    address_, compression_);
  exchange.check = &wire::parse_reply_header;
  return exchange;
}

void AsyncConnection::begin_exchange(const Exchange& exchange) {
  timed_out_ = false;
  const std::uint32_t armed = ++armed_;
  if (!exchange.deadline.at) return;
  if (!timer_) timer_ = std::make_unique<asio::steady_timer>(socket_.get_executor());
  timer_->expires_at(*exchange.deadline.at);
  // Not part of the composed operation: when the deadline passes it cancels the socket's
  // operation, which then completes with operation_aborted and check_step names the deadline.
  // The weak reference and the count make a wait that outlived its exchange (or its
  // connection) do nothing.
  timer_->async_wait([weak = weak_from_this(), armed](const boost::system::error_code& ec) {
    if (ec) return;
    auto self = weak.lock();
    if (!self || self->armed_ != armed) return;
    self->timed_out_ = true;
    boost::system::error_code ignored;
    self->socket_.cancel(ignored);
  });
}

void AsyncConnection::end_exchange() noexcept {
  ++armed_;
  if (timer_) timer_->cancel();
}

void AsyncConnection::check_step(const boost::system::error_code& ec, const Exchange& exchange,
                                 std::string_view doing) {
  // A deadline that fired between two steps cancelled nothing: it fails the next step instead.
  if (ec || timed_out_) fail_step(ec, timed_out_, exchange.deadline, doing);
}

void AsyncConnection::on_reply_header(Exchange& exchange) {
  wire::MessageHeader header;
  wire::DecodeDiagnostics diagnostics;
  if (auto check = exchange.check(exchange.header, max_message_size_, header, &diagnostics)) {
    fail(check, "the reply header from " + address_.to_string() + ": " + diagnostics.describe());
  }
  exchange.length = static_cast<std::size_t>(header.message_length);
  // Exactly the reply's size when it is small; a large one grows as its bytes arrive
  // (next_reply_size), so that a header announcing much more than comes costs little.
  exchange.reply.clear();
  exchange.reply.reserve(next_reply_size(0, exchange.length));
  exchange.reply.assign(exchange.header.begin(), exchange.header.end());
}

std::span<std::uint8_t> AsyncConnection::next_reply_chunk(Exchange& exchange) {
  const std::size_t have = exchange.reply.size();
  if (have >= exchange.length) return {};
  exchange.reply.resize(next_reply_size(have, exchange.length));
  return std::span(exchange.reply).subspan(have);
}

bson::Document AsyncConnection::finish_command(Exchange& exchange) {
  std::optional<wire::OpMsg> reply;
  try {
    reply = decode_command_reply(std::move(exchange.reply), exchange.request_id, max_message_size_,
                                 address_);
  } catch (const Error& e) {
    fail(e.code(), e.what());
  }
  bson::Document result(reply->body());
  try {
    check_command_reply(result.view(), address_);
  } catch (const ServerError&) {
    throw;  // a well-formed answer: the connection stays usable
  } catch (const Error& e) {
    fail(e.code(), e.what());
  }
  return result;
}

asio::awaitable<bson::Document> AsyncConnection::run_command(
    std::string_view db, bson::View command, std::span<const wire::DocumentSequence> sequences,
    std::optional<Deadline> limit) {
  Exchange exchange = prepare_command(db, command, sequences, limit);
  co_await async_exchange(exchange, asio::deferred);
  co_return finish_command(exchange);
}

}  // namespace mongoslice
