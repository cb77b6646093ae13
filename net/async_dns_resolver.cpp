#include "net/async_dns_resolver.hpp"

#include <ares.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include "wire/error.hpp"

namespace mongoslice {

namespace asio = boost::asio;

namespace {

// One lookup: its channel, the sockets c-ares has open (each watched by an Asio descriptor),
// the retransmission timer, and `done`, the timer the coroutine waits on (it expires at the
// deadline; the lookup's end cancels it).
//
// Shared by the coroutine and the handlers of its waits: close() (run by the frame's guard)
// ends everything at once, and a handler that runs later finds `closed` and does nothing, the
// object kept alive by the handler's own reference.
class Lookup : public std::enable_shared_from_this<Lookup> {
 public:
  Lookup(asio::any_io_executor executor, const std::string& where)
      : executor_(std::move(executor)), where_(where), retry_(executor_), done_(executor_) {}
  Lookup(const Lookup&) = delete;
  Lookup& operator=(const Lookup&) = delete;
  ~Lookup() { close(); }

  void open(const DnsOptions& options) {
    ares_options extra{};
    extra.sock_state_cb = &Lookup::on_socket_state;
    extra.sock_state_cb_data = this;
    channel_ = open_dns_channel(options, where_, &extra, ARES_OPT_SOCK_STATE_CB);
  }

  void start(const std::string& host, const Deadline& deadline) {
    done_.expires_at(deadline.at ? *deadline.at : SteadyClock::time_point::max());
    ares_addrinfo_hints hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    // May call back at once (/etc/hosts), or open sockets (on_socket_state) to query.
    ares_getaddrinfo(channel_, host.c_str(), nullptr, &hints, &Lookup::on_addrinfo, this);
    step();
  }

  // Releases every descriptor from Asio, stops the timers and destroys the channel (which
  // closes its sockets and calls on_addrinfo with ARES_EDESTRUCTION, ignored now). Idempotent.
  void close() noexcept {
    if (closed_) return;
    closed_ = true;
    for (auto& watch : watches_) {
      boost::system::error_code ignored;
      watch->descriptor.cancel(ignored);
      (void)watch->descriptor.release();
    }
    watches_.clear();
    retry_.cancel();
    done_.cancel();
    if (channel_) ares_destroy(channel_);
    channel_ = nullptr;
  }

  asio::steady_timer& done_timer() noexcept { return done_; }
  bool finished() const noexcept { return finished_; }
  int status() const noexcept { return status_; }
  std::vector<asio::ip::address>& addresses() noexcept { return addresses_; }

 private:
  struct Watch {
    Watch(const asio::any_io_executor& executor, ares_socket_t fd, std::uint64_t id)
        : descriptor(executor, fd), fd(fd), id(id) {}
    asio::posix::stream_descriptor descriptor;
    ares_socket_t fd;
    std::uint64_t id;  // tells a watch from a later one on the same descriptor number
    bool want_read = false;
    bool want_write = false;
    bool read_pending = false;
    bool write_pending = false;
  };

  Watch* find(std::uint64_t id) {
    for (auto& watch : watches_) {
      if (watch->id == id) return watch.get();
    }
    return nullptr;
  }

  // c-ares opened, changed its interest in or is about to close one of its sockets.
  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) noexcept {
    auto& self = *static_cast<Lookup*>(data);
    if (self.closed_) return;
    auto it = std::find_if(self.watches_.begin(), self.watches_.end(),
                           [fd](const auto& w) { return w->fd == fd; });
    if (!readable && !writable) {
      // About to be closed by c-ares: Asio lets go of it first (its waits end as aborted).
      if (it != self.watches_.end()) {
        boost::system::error_code ignored;
        (*it)->descriptor.cancel(ignored);
        (void)(*it)->descriptor.release();
        self.watches_.erase(it);
      }
      return;
    }
    try {
      if (it == self.watches_.end()) {
        self.watches_.push_back(std::make_unique<Watch>(self.executor_, fd, ++self.next_id_));
        it = std::prev(self.watches_.end());
      }
      (*it)->want_read = readable != 0;
      (*it)->want_write = writable != 0;
    } catch (...) {  // registering with the reactor failed, or std::bad_alloc
      self.fail(ARES_ECONNREFUSED);
    }
  }

  // The lookup's end: called by c-ares inside ares_getaddrinfo, ares_process_fd or
  // ares_destroy. Must not throw into C.
  static void on_addrinfo(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) noexcept {
    auto& self = *static_cast<Lookup*>(arg);
    if (!self.closed_ && !self.finished_) {
      self.status_ = status;
      if (status == ARES_SUCCESS && result) {
        try {
          collect_addresses(result->nodes, self.addresses_);
        } catch (...) {
          self.status_ = ARES_ENOMEM;
          self.addresses_.clear();
        }
      }
      self.finished_ = true;
      self.done_.cancel();
    }
    if (result) ares_freeaddrinfo(result);
  }

  void fail(int status) noexcept {
    if (finished_) return;
    status_ = status;
    finished_ = true;
    done_.cancel();
  }

  // After every call into c-ares: wait for what it waits for now, no longer than its next
  // retransmission.
  void step() {
    if (closed_ || finished_) return;
    auto self = shared_from_this();
    for (auto& watch : watches_) {
      if (watch->want_read && !watch->read_pending) {
        watch->read_pending = true;
        watch->descriptor.async_wait(
            asio::posix::descriptor_base::wait_read,
            [self, id = watch->id](boost::system::error_code ec) { self->on_ready(id, true, ec); });
      }
      if (watch->want_write && !watch->write_pending) {
        watch->write_pending = true;
        watch->descriptor.async_wait(asio::posix::descriptor_base::wait_write,
                                     [self, id = watch->id](boost::system::error_code ec) {
                                       self->on_ready(id, false, ec);
                                     });
      }
    }
    timeval storage{};
    if (timeval* wait = ares_timeout(channel_, nullptr, &storage)) {
      auto after = std::chrono::seconds(wait->tv_sec) + std::chrono::microseconds(wait->tv_usec);
      retry_.expires_after(after);
      retry_.async_wait([self](boost::system::error_code ec) {
        if (ec || self->closed_ || self->finished_) return;
        ares_process_fd(self->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        self->step();
      });
    }
  }

  void on_ready(std::uint64_t id, bool read, const boost::system::error_code& ec) {
    if (closed_) return;
    Watch* watch = find(id);
    if (!watch) return;  // released: c-ares closed that socket
    (read ? watch->read_pending : watch->write_pending) = false;
    if (ec == asio::error::operation_aborted || finished_) return;
    // Another error: c-ares learns it from its own next call on the socket.
    if (read ? watch->want_read : watch->want_write) {
      const ares_socket_t fd = watch->fd;  // `watch` may be gone after the call
      ares_process_fd(channel_, read ? fd : ARES_SOCKET_BAD, read ? ARES_SOCKET_BAD : fd);
    }
    step();
  }

  asio::any_io_executor executor_;
  std::string where_;
  ares_channel channel_ = nullptr;
  std::vector<std::unique_ptr<Watch>> watches_;
  std::uint64_t next_id_ = 0;
  asio::steady_timer retry_;
  asio::steady_timer done_;
  bool closed_ = false;
  bool finished_ = false;
  int status_ = ARES_SUCCESS;
  std::vector<asio::ip::address> addresses_;
};

// Closes the lookup when the frame ends, however it ends (returned, thrown, destroyed while
// suspended).
struct CloseOnExit {
  std::shared_ptr<Lookup> lookup;
  ~CloseOnExit() { lookup->close(); }
};

}  // namespace

asio::awaitable<std::vector<asio::ip::address>> co_resolve(asio::any_io_executor executor,
                                                           const HostAndPort& peer,
                                                           const DnsOptions& options,
                                                           const Deadline& deadline) {
  boost::system::error_code not_literal;
  auto literal = asio::ip::make_address(peer.host, not_literal);
  if (!not_literal) {
    std::vector<asio::ip::address> one{literal};
    co_return one;
  }
  const std::string where = "resolving " + peer.to_string();
  if (int status = dns_library_status(); status != ARES_SUCCESS) {
    throw Error(errc::network_error, where + ": c-ares cannot start: " + ares_strerror(status));
  }
  auto lookup = std::make_shared<Lookup>(executor, where);
  CloseOnExit guard{lookup};
  lookup->open(options);
  lookup->start(peer.host, deadline);
  bool timed_out = false;
  if (!lookup->finished()) {
    auto [ec] = co_await lookup->done_timer().async_wait(asio::as_tuple(asio::use_awaitable));
    // The lookup's end cancels the timer; the deadline makes it expire; otherwise the awaiting
    // coroutine was cancelled.
    if (!lookup->finished()) {
      if (!ec) {
        timed_out = true;
      } else {
        lookup->close();
        throw Error(std::error_code(ECANCELED, std::system_category()), where + ": cancelled");
      }
    }
  }
  if (timed_out) {
    lookup->close();
    throw Error(errc::timeout, where + " timed out after " +
                                   std::to_string(deadline.budget.count()) + " ms (" +
                                   std::string(deadline.source) + ")");
  }
  lookup->close();
  if (lookup->status() != ARES_SUCCESS) {
    throw Error(errc::network_error, where + ": " + ares_strerror(lookup->status()));
  }
  if (lookup->addresses().empty()) throw Error(errc::network_error, where + ": no addresses");
  std::vector<asio::ip::address> addresses = std::move(lookup->addresses());
  co_return addresses;
}

}  // namespace mongoslice
