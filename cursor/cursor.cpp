#include "cursor/cursor.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "ops/commands.hpp"
#include "wire/error.hpp"
#include "wire/log.hpp"

namespace mongoslice {
namespace {

// Server errors after which the server cursor no longer exists, so there is nothing to kill.
bool cursor_is_gone(std::int32_t code) noexcept {
  constexpr std::int32_t kQueryPlanKilled = 175;
  constexpr std::int32_t kCursorKilled = 237;
  return code == server_code::kCursorNotFound || code == kQueryPlanKilled || code == kCursorKilled;
}

}  // namespace

Cursor::Cursor() = default;

Cursor::Cursor(bson::Document first_reply, CursorOptions options,
               std::shared_ptr<CursorChannel> channel, std::shared_ptr<KillQueue> kill_queue,
               HostAndPort server, CursorSessionPtr session)
    : server_(std::move(server)),
      batch_size_(options.batch_size),
      max_time_ms_(options.max_time_ms),
      comment_(std::move(options.comment)),
      single_batch_(options.limit < 0),
      async_only_(options.async_only),
      channel_(std::move(channel)),
      kill_queue_(std::move(kill_queue)) {
  if (options.batch_size < 0) {
    throw Error(errc::invalid_argument,
                "batch_size must not be negative, got " + std::to_string(options.batch_size));
  }
  if (options.max_time_ms && *options.max_time_ms < 0) {
    throw Error(errc::invalid_argument,
                "max_time_ms must not be negative, got " + std::to_string(*options.max_time_ms));
  }
  if (comment_ && comment_->view().empty()) {
    throw Error(errc::invalid_argument, "the getMore comment document holds no value");
  }
  if (options.limit == std::numeric_limits<std::int64_t>::min()) {
    throw Error(errc::invalid_argument, "limit is out of range");
  }
  limit_ = options.limit < 0 ? -options.limit : options.limit;

  reply_ = std::move(first_reply);
  // Throws ServerError for {ok: 0}, and checks the shape (every batch element a document).
  wire::CursorReply parsed = wire::parse_cursor_reply(reply_);
  ns_ = Namespace::parse(parsed.ns);
  if (parsed.id != 0) {
    if (!channel_ || !kill_queue_) {
      throw Error(errc::invalid_argument, "a live cursor needs a channel and a kill queue");
    }
    // Allocated now, while allocating is allowed, so that the destructor only links it. Its
    // names stay empty until the cursor hands it over: the destructor then moves ours into it
    // (no allocation, and no free: an empty string owns no buffer).
    kill_record_ = KillRecord::make(parsed.id, Namespace{}, HostAndPort{});
  }
  id_ = parsed.id;
  if (id_ != 0) session_ = std::move(session);
  batch_next_ = parsed.batch.begin();
  // singleBatch: the server should have closed the cursor; if it did not, we do not need it.
  if (single_batch_) kill_later();
}

Cursor::Cursor(Cursor&& other) noexcept
    : reply_(std::move(other.reply_)),
      batch_next_(std::exchange(other.batch_next_, {})),
      current_(other.current_),
      has_current_(std::exchange(other.has_current_, false)),
      started_(other.started_),
      id_(std::exchange(other.id_, 0)),
      ns_(std::move(other.ns_)),
      server_(std::move(other.server_)),
      batch_size_(other.batch_size_),
      max_time_ms_(other.max_time_ms_),
      comment_(std::move(other.comment_)),
      limit_(other.limit_),
      single_batch_(other.single_batch_),
      async_only_(other.async_only_),
      returned_(other.returned_),
      channel_(std::move(other.channel_)),
      kill_queue_(std::move(other.kill_queue_)),
      kill_record_(std::move(other.kill_record_)),
      session_(std::move(other.session_)) {
}

Cursor& Cursor::operator=(Cursor&& other) noexcept {
  if (this != &other) {
    kill_later();  // our own server cursor
    reply_ = std::move(other.reply_);
    batch_next_ = std::exchange(other.batch_next_, {});
    current_ = other.current_;
    has_current_ = std::exchange(other.has_current_, false);
    started_ = other.started_;
    id_ = std::exchange(other.id_, 0);
    ns_ = std::move(other.ns_);
    server_ = std::move(other.server_);
    batch_size_ = other.batch_size_;
    max_time_ms_ = other.max_time_ms_;
    comment_ = std::move(other.comment_);
    limit_ = other.limit_;
    single_batch_ = other.single_batch_;
    async_only_ = other.async_only_;
    returned_ = other.returned_;
    channel_ = std::move(other.channel_);
    kill_queue_ = std::move(other.kill_queue_);
    kill_record_ = std::move(other.kill_record_);
    session_ = std::move(other.session_);
  }
  return *this;
}

Cursor::~Cursor() {
  // Invariant 1: only an atomic link (and perhaps a lock-free wake) happens here. The batch
  // buffer travels with the record (a move: three pointers), so not even a free happens here.
  // session_, destroyed after this body, goes back to its pool with one lock-free push.
  if (kill_record_) {
    kill_record_->retired_batch.emplace(std::move(reply_));
    if (comment_) kill_record_->retired_comment.emplace(std::move(*comment_));
    kill_record_->ns = std::move(ns_);
    kill_record_->server = std::move(server_);
    KillRecord& record = *kill_record_;
    bool orphaned = false;
    kill_queue_->push(std::move(kill_record_), &orphaned);
    // A retired queue is drained by nobody, so the record stays readable (the queue lives while
    // we hold it). The client is closed: logging (which allocates) is allowed again.
    if (orphaned) report_orphaned(record, kill_queue_->orphaned());
  }
}

void Cursor::report_orphaned(const KillRecord& record, std::uint64_t count) noexcept {
  try {
    log::emit(log::component::cursor, log::Level::warning,
              "cursor " + std::to_string(record.cursor_id) + " on " + record.ns.to_string() +
                  " at " + record.server.to_string() +
                  " was destroyed after its client was closed: not killed (the server reaps it "
                  "after its cursor timeout); " +
                  std::to_string(count) + " such cursor(s) so far for this client");
  } catch (...) {  // no memory for the message
  }
}

Cursor::iterator Cursor::begin() {
  check_sync();
  if (!started_) advance();
  return iterator(this);
}

void Cursor::advance() {
  check_sync();
  while (step() == Step::kNeedMore) fetch_more();
}

std::optional<bson::View> Cursor::next() {
  advance();
  if (!has_current_) return std::nullopt;
  return current_;
}

Cursor::Step Cursor::step() {
  started_ = true;
  has_current_ = false;
  if (limit_reached()) {
    kill_later();
    return Step::kEnd;
  }
  if (batch_next_ != bson::View::iterator()) {
    bson::Element element = *batch_next_;
    ++batch_next_;
    if (element.type() != bson::Type::kDocument) {
      throw Error(errc::cursor_error, "cursor batch element " + std::string(element.key()) +
                                          " is a " + std::string(bson::type_name(element.type())) +
                                          ", not a document");
    }
    current_ = element.get_document();
    has_current_ = true;
    ++returned_;
    if (limit_reached()) kill_later();
    return Step::kHave;
  }
  if (id_ == 0) return Step::kEnd;
  if (single_batch_) {
    kill_later();
    return Step::kEnd;
  }
  return Step::kNeedMore;
}

GetMoreFields Cursor::get_more_fields() const {
  std::optional<std::int32_t> batch_size;
  if (batch_size_ > 0) batch_size = batch_size_;
  if (limit_ > 0) {
    // Never ask for more than the limit leaves.
    auto remaining = static_cast<std::int32_t>(
        std::min<std::int64_t>(limit_ - returned_, std::numeric_limits<std::int32_t>::max()));
    batch_size = batch_size ? std::min(*batch_size, remaining) : remaining;
  }
  GetMoreFields fields{batch_size, max_time_ms_, std::nullopt, std::nullopt};
  if (comment_) fields.comment = *comment_->view().begin();
  if (session_) fields.lsid = session_->lsid();
  return fields;
}

void Cursor::accept_get_more(bson::Document reply) {
  reply_ = std::move(reply);
  wire::CursorReply parsed = wire::parse_cursor_reply(reply_);
  if (parsed.id != 0 && parsed.id != id_) {
    throw Error(errc::cursor_error, "getMore for cursor " + std::to_string(id_) +
                                        " answered for cursor " + std::to_string(parsed.id));
  }
  batch_next_ = parsed.batch.begin();
  if (parsed.id == 0) {
    id_ = 0;
    kill_record_.reset();  // exhausted on the server: nothing to kill
    session_.reset();
  }
}

void Cursor::fetch_more() {
  try {
    accept_get_more(channel_->get_more_with(ns_, id_, get_more_fields()));
  } catch (const std::exception& error) {
    batch_next_ = {};
    give_up_after_error(&error);
    throw;
  }
}

boost::asio::awaitable<std::optional<bson::View>> Cursor::co_next() {
  for (;;) {
    switch (step()) {
      case Step::kHave:
        co_return current_;
      case Step::kEnd:
        co_return std::nullopt;
      case Step::kNeedMore:
        break;
    }
    std::exception_ptr failure;
    try {
      accept_get_more(co_await channel_->co_get_more(ns_, id_, get_more_fields()));
    } catch (const std::exception& error) {
      batch_next_ = {};
      give_up_after_error(&error);
      failure = std::current_exception();
    }
    if (failure) std::rethrow_exception(failure);
  }
}

void Cursor::check_sync() const {
  if (async_only_) {
    throw Error(errc::invalid_argument,
                "this cursor was made by an async_ operation: iterate it with async_next");
  }
}

void Cursor::give_up_after_error(const std::exception* error) noexcept {
  auto* server_error = dynamic_cast<const ServerError*>(error);
  if (server_error != nullptr && cursor_is_gone(server_error->server_code())) {
    id_ = 0;
    kill_record_.reset();
    session_.reset();
  } else {
    // The server cursor may still exist (a network error, another server error): let the
    // kill-cursors task try, and report it if that fails.
    kill_later();
  }
}

void Cursor::kill_later() noexcept {
  if (kill_record_) {
    // Not a destructor: the cursor keeps its names (ns(), server()), the record gets copies.
    try {
      kill_record_->ns = ns_;
      kill_record_->server = server_;
    } catch (...) {  // no memory: the names go with the record
      kill_record_->ns = std::move(ns_);
      kill_record_->server = std::move(server_);
    }
    bool orphaned = false;
    KillRecord& record = *kill_record_;
    kill_queue_->push(std::move(kill_record_), &orphaned);
    if (orphaned) report_orphaned(record, kill_queue_->orphaned());
  }
  id_ = 0;
  session_.reset();  // killCursors goes without it (the sessions spec allows that)
}

void Cursor::close() {
  has_current_ = false;
  batch_next_ = {};
  started_ = true;
  std::unique_ptr<KillRecord> record = std::move(kill_record_);
  std::int64_t id = std::exchange(id_, 0);
  session_.reset();
  if (record) channel_->kill_now(ns_, id);
}

}  // namespace mongoslice
