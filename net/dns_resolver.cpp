#include "net/dns_resolver.hpp"

#include <ares.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include "wire/error.hpp"
#include "wire/fork_generation.hpp"

namespace mongoslice {

namespace asio = boost::asio;

// ---- InterruptSlot ----------------------------------------------------------------------------

namespace {

constexpr std::uint64_t kLowHalf = 0xffff'ffffu;

// The current fork generation in the high half of a slot word. Truncating it to 32 bits only
// confuses generations 2^32 forks apart.
std::uint64_t generation_bits() noexcept {
  return (current_fork_generation() & kLowHalf) << 32;
}

}  // namespace

InterruptSlot::InterruptSlot() noexcept {
  (void)current_fork_generation();
}

void InterruptSlot::interrupt() noexcept {
  interrupted_.store(true);
  const std::uint64_t generation = generation_bits();
  // Count in. A count of another generation was inherited: the threads it counted are the
  // parent's, and do not exist here, so it starts again from zero.
  std::uint64_t count = interrupters_.load();
  while (!interrupters_.compare_exchange_weak(
      count, (count & ~kLowHalf) == generation ? count + 1 : generation | 1)) {
  }
  const std::uint64_t published = published_.load();
  if ((published & kLowHalf) != 0 && (published & ~kLowHalf) == generation) {
    ::shutdown(static_cast<int>((published & kLowHalf) - 1), SHUT_RDWR);
  }
  interrupters_.fetch_sub(1);
}

void InterruptSlot::publish(int fd) noexcept {
  published_.store(generation_bits() | (static_cast<std::uint64_t>(fd) + 1));
}

void InterruptSlot::withdraw() noexcept {
  published_.store(0);
  // An interrupter that loaded the old value is between its load and its shutdown(2): one
  // system call. Let it finish before the descriptor can be closed and its number reused.
  const std::uint64_t generation = generation_bits();
  for (;;) {
    std::uint64_t count = interrupters_.load();
    if ((count & ~kLowHalf) != generation || (count & kLowHalf) == 0) return;
    std::this_thread::yield();
  }
}

// ---- DnsResolver ------------------------------------------------------------------------------

namespace {

// ares_library_init, once per process. Never cleaned up: another thread may be resolving while
// the process exits.
int library_status() noexcept {
  static std::once_flag once;
  static int status = ARES_ENOTINITIALIZED;
  std::call_once(once, [] { status = ares_library_init(ARES_LIB_INIT_ALL); });
  return status;
}

std::string system_message(int error) {
  return std::system_category().message(error);
}

// Makes c-ares's sockets close-on-exec (it has no option for that): a program that another
// thread exec()s during a lookup should not inherit them.
int set_cloexec(ares_socket_t fd, int /*type*/, void* /*data*/) {
  int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  return 0;
}

// One c-ares channel: the configuration (/etc/resolv.conf, or the servers given) and the
// lookups in flight. Channels are not thread-safe (c-ares 1.18); each lookup has its own.
class Channel {
 public:
  Channel(const DnsOptions& options, const std::string& where)
      : channel_(open_dns_channel(options, where, nullptr, 0)) {}
  // Ends the lookups still in flight: their callbacks run here with ARES_EDESTRUCTION.
  ~Channel() { ares_destroy(channel_); }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  ares_channel get() const noexcept { return channel_; }

 private:
  ares_channel channel_ = nullptr;
};

// The socket whose shutdown(2) by InterruptSlot::interrupt() wakes the poll(2) of a lookup: one
// end of a socketpair, published in the slot while the lookup runs. (shutdown(2) works on
// sockets only, so an eventfd or a pipe would not do.)
class WakeSocket {
 public:
  WakeSocket(InterruptSlot& slot, const std::string& where) : slot_(slot) {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds_) != 0) {
      throw Error(errc::network_error, where + ": socketpair: " + system_message(errno));
    }
    slot_.publish(fds_[0]);
  }
  ~WakeSocket() {
    slot_.withdraw();
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  WakeSocket(const WakeSocket&) = delete;
  WakeSocket& operator=(const WakeSocket&) = delete;

  int fd() const noexcept { return fds_[0]; }

 private:
  InterruptSlot& slot_;
  int fds_[2] = {-1, -1};
};

// What the c-ares callback fills in.
struct Lookup {
  bool done = false;
  int status = ARES_SUCCESS;
  std::vector<asio::ip::address> addresses;
};

std::optional<asio::ip::address> to_address(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    sockaddr_in in;
    std::memcpy(&in, address, sizeof in);
    return asio::ip::address_v4(ntohl(in.sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    sockaddr_in6 in6;
    std::memcpy(&in6, address, sizeof in6);
    asio::ip::address_v6::bytes_type bytes;
    std::memcpy(bytes.data(), &in6.sin6_addr, bytes.size());
    return asio::ip::address_v6(bytes, in6.sin6_scope_id);
  }
  return std::nullopt;
}

// Called by c-ares from inside ares_getaddrinfo (answered from /etc/hosts), ares_process_fd or
// ares_destroy. Must not throw into C.
void on_addrinfo(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) noexcept {
  auto& lookup = *static_cast<Lookup*>(arg);
  lookup.done = true;
  lookup.status = status;
  if (status == ARES_SUCCESS && result) {
    try {
      collect_addresses(result->nodes, lookup.addresses);
    } catch (...) {  // std::bad_alloc
      lookup.status = ARES_ENOMEM;
      lookup.addresses.clear();
    }
  }
  if (result) ares_freeaddrinfo(result);
}

// poll(2)'s timeout for `wait`, rounded up so that a wait of less than 1 ms does not spin.
int to_poll_timeout(const timeval& wait) {
  long long ms = static_cast<long long>(wait.tv_sec) * 1000 + (wait.tv_usec + 999) / 1000;
  return static_cast<int>(std::clamp<long long>(ms, 0, INT_MAX));
}

// What an ares_query callback keeps: the raw answer, parsed after the channel is gone.
struct RecordQuery {
  bool done = false;
  int status = ARES_SUCCESS;
  std::vector<unsigned char> answer;
};

constexpr int kClassIn = 1;   // ns_c_in
constexpr int kTypeTxt = 16;  // ns_t_txt
constexpr int kTypeSrv = 33;  // ns_t_srv

void on_query(void* arg, int status, int /*timeouts*/, unsigned char* answer, int length) noexcept {
  auto& query = *static_cast<RecordQuery*>(arg);
  query.done = true;
  query.status = status;
  if (status == ARES_SUCCESS && answer && length > 0) {
    try {
      query.answer.assign(answer, answer + length);
    } catch (...) {  // std::bad_alloc
      query.status = ARES_ENOMEM;
    }
  }
}

// Runs one c-ares request to completion on the calling thread: `start` issues it on a fresh
// channel, and the caller's thread waits with poll(2) on c-ares's sockets and the wake-up socket
// until `done` turns true (the request's callback sets it). Throws errc::timeout at the
// deadline and errc::interrupted when `interrupt` fires; the channel, and with it the request,
// is destroyed before it returns.
template <typename Start>
void run_lookup(const DnsOptions& options, const std::string& where, const Deadline& deadline,
                InterruptSlot& interrupt, bool& done, Start start) {
  if (int status = library_status(); status != ARES_SUCCESS) {
    throw Error(errc::network_error, where + ": c-ares cannot start: " + ares_strerror(status));
  }
  Channel channel(options, where);
  WakeSocket wake(interrupt, where);
  auto interrupted_error = [&] {
    return Error(errc::interrupted, where + ": interrupted by another thread");
  };
  if (interrupt.interrupted()) throw interrupted_error();
  start(channel.get());

  std::vector<pollfd> fds;
  fds.reserve(1 + ARES_GETSOCK_MAXNUM);
  while (!done) {
    if (interrupt.interrupted()) throw interrupted_error();
    timeval until_deadline{};
    if (deadline.at) {
      auto left = *deadline.at - SteadyClock::now();
      if (left <= SteadyClock::duration::zero()) {
        throw Error(errc::timeout, where + " timed out after " +
                                       std::to_string(deadline.budget.count()) + " ms (" +
                                       std::string(deadline.source) + ")");
      }
      auto us = std::chrono::ceil<std::chrono::microseconds>(left).count();
      until_deadline.tv_sec = static_cast<time_t>(us / 1'000'000);
      until_deadline.tv_usec = static_cast<suseconds_t>(us % 1'000'000);
    }

    // What c-ares waits for now (its sockets come and go as it retries and fails over), plus
    // the wake-up socket; no longer than c-ares's next retransmission or the deadline.
    ares_socket_t sockets[ARES_GETSOCK_MAXNUM];
    int bits = ares_getsock(channel.get(), sockets, ARES_GETSOCK_MAXNUM);
    fds.clear();
    fds.push_back({wake.fd(), POLLIN, 0});
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      short events = 0;
      if (ARES_GETSOCK_READABLE(bits, i)) events |= POLLIN;
      if (ARES_GETSOCK_WRITABLE(bits, i)) events |= POLLOUT;
      if (events != 0) fds.push_back({sockets[i], events, 0});
    }
    timeval storage{};
    timeval* wait = ares_timeout(channel.get(), deadline.at ? &until_deadline : nullptr, &storage);
    int ready = ::poll(fds.data(), fds.size(), wait ? to_poll_timeout(*wait) : -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw Error(errc::network_error, where + ": poll: " + system_message(errno));
    }
    if (ready == 0) {
      ares_process_fd(channel.get(), ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // c-ares's timeouts
      continue;
    }
    // fds[0] is the wake-up socket: the flag, checked at the top, says why it woke.
    for (std::size_t i = 1; i < fds.size() && !done; ++i) {
      const short got = fds[i].revents;
      const short failed = POLLERR | POLLHUP;  // c-ares learns the error from its next call
      bool readable = (fds[i].events & POLLIN) && (got & (POLLIN | failed));
      bool writable = (fds[i].events & POLLOUT) && (got & (POLLOUT | failed));
      if (readable || writable) {
        ares_process_fd(channel.get(), readable ? fds[i].fd : ARES_SOCKET_BAD,
                        writable ? fds[i].fd : ARES_SOCKET_BAD);
      }
    }
  }
}

}  // namespace

int dns_library_status() noexcept {
  return library_status();
}

ares_channeldata* open_dns_channel(const DnsOptions& options, const std::string& where,
                                   ares_options* extra, int extra_mask) {
  ares_channel channel = nullptr;
  int status = extra ? ares_init_options(&channel, extra, extra_mask) : ares_init(&channel);
  if (status != ARES_SUCCESS) {
    throw Error(errc::network_error, where + ": c-ares cannot start: " + ares_strerror(status));
  }
  ares_set_socket_configure_callback(channel, &set_cloexec, nullptr);
  if (!options.servers.empty()) {
    std::string csv;
    for (const auto& server : options.servers) csv += (csv.empty() ? "" : ",") + server;
    status = ares_set_servers_ports_csv(channel, csv.c_str());
    if (status != ARES_SUCCESS) {
      ares_destroy(channel);
      throw Error(errc::invalid_argument,
                  where + ": DNS servers \"" + csv + "\" not accepted: " + ares_strerror(status));
    }
  }
  return channel;
}

void collect_addresses(const ares_addrinfo_node* nodes, std::vector<asio::ip::address>& out) {
  for (const ares_addrinfo_node* node = nodes; node; node = node->ai_next) {
    auto address = to_address(node->ai_addr);
    if (address && std::find(out.begin(), out.end(), *address) == out.end()) {
      out.push_back(*address);
    }
  }
}

DnsResolver::DnsResolver(DnsOptions options) : options_(std::move(options)) {
}

std::vector<asio::ip::address> DnsResolver::resolve(const HostAndPort& peer,
                                                    const Deadline& deadline) const {
  InterruptSlot never;
  return resolve(peer, deadline, never);
}

std::vector<asio::ip::address> DnsResolver::resolve(const HostAndPort& peer,
                                                    const Deadline& deadline,
                                                    InterruptSlot& interrupt) const {
  boost::system::error_code not_literal;
  auto literal = asio::ip::make_address(peer.host, not_literal);
  if (!not_literal) return {literal};

  const std::string where = "resolving " + peer.to_string();
  // Outside run_lookup, so that it outlives the channel, whose destructor may still call back.
  Lookup lookup;
  run_lookup(options_, where, deadline, interrupt, lookup.done, [&](ares_channel channel) {
    ares_addrinfo_hints hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    ares_getaddrinfo(channel, peer.host.c_str(), nullptr, &hints, &on_addrinfo, &lookup);
  });
  if (lookup.status != ARES_SUCCESS) {
    throw Error(errc::network_error, where + ": " + ares_strerror(lookup.status));
  }
  if (lookup.addresses.empty()) throw Error(errc::network_error, where + ": no addresses");
  return std::move(lookup.addresses);
}

std::vector<SrvRecord> DnsResolver::lookup_srv(const std::string& name, const Deadline& deadline,
                                               InterruptSlot& interrupt) const {
  const std::string where = "looking up the SRV records of " + name;
  RecordQuery query;  // outlives the channel, as in resolve()
  run_lookup(options_, where, deadline, interrupt, query.done, [&](ares_channel channel) {
    ares_query(channel, name.c_str(), kClassIn, kTypeSrv, &on_query, &query);
  });
  if (query.status != ARES_SUCCESS) {
    throw Error(errc::network_error, where + ": " + ares_strerror(query.status));
  }
  ares_srv_reply* replies = nullptr;
  if (int status = ares_parse_srv_reply(query.answer.data(), static_cast<int>(query.answer.size()),
                                        &replies);
      status != ARES_SUCCESS) {
    throw Error(errc::network_error,
                where + ": the answer does not parse: " + ares_strerror(status));
  }
  std::vector<SrvRecord> out;
  try {
    for (const ares_srv_reply* r = replies; r; r = r->next) {
      out.push_back({r->host, r->port, r->priority, r->weight});
    }
  } catch (...) {
    ares_free_data(replies);
    throw;
  }
  ares_free_data(replies);
  return out;
}

std::vector<std::string> DnsResolver::lookup_txt(const std::string& name, const Deadline& deadline,
                                                 InterruptSlot& interrupt) const {
  const std::string where = "looking up the TXT records of " + name;
  RecordQuery query;  // outlives the channel, as in resolve()
  run_lookup(options_, where, deadline, interrupt, query.done, [&](ares_channel channel) {
    ares_query(channel, name.c_str(), kClassIn, kTypeTxt, &on_query, &query);
  });
  // No TXT record is an answer too: the seed list then has no options from DNS.
  if (query.status == ARES_ENODATA || query.status == ARES_ENOTFOUND) return {};
  if (query.status != ARES_SUCCESS) {
    throw Error(errc::network_error, where + ": " + ares_strerror(query.status));
  }
  ares_txt_ext* chunks = nullptr;
  if (int status = ares_parse_txt_reply_ext(query.answer.data(),
                                            static_cast<int>(query.answer.size()), &chunks);
      status != ARES_SUCCESS) {
    if (status == ARES_ENODATA) return {};
    throw Error(errc::network_error,
                where + ": the answer does not parse: " + ares_strerror(status));
  }
  // A record may hold several character-strings: they are one text, concatenated (RFC 7208's
  // reading, which the seedlist spec's "replicaS" "et=rep" "l0" case asks for).
  std::vector<std::string> out;
  try {
    for (const ares_txt_ext* c = chunks; c; c = c->next) {
      if (c->record_start || out.empty()) out.emplace_back();
      out.back().append(reinterpret_cast<const char*>(c->txt), c->length);
    }
  } catch (...) {
    ares_free_data(chunks);
    throw;
  }
  ares_free_data(chunks);
  return out;
}

std::vector<SrvRecord> DnsResolver::lookup_srv(const std::string& name,
                                               const Deadline& deadline) const {
  InterruptSlot never;
  return lookup_srv(name, deadline, never);
}

std::vector<std::string> DnsResolver::lookup_txt(const std::string& name,
                                                 const Deadline& deadline) const {
  InterruptSlot never;
  return lookup_txt(name, deadline, never);
}

}  // namespace mongoslice
