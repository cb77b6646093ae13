#pragma once
// Host name lookups (A and AAAA), and the SRV and TXT records of mongodb+srv:// seed lists, with
// a deadline and an interrupt, on the calling thread.
//
//   InterruptSlot interrupt;                    // another thread may call interrupt.interrupt()
//   DnsResolver resolver({.servers = {"127.0.0.1:5353"}});
//   auto addresses = resolver.resolve({"db.example.com", 27017},
//                                     Deadline::after(200ms, "connectTimeoutMS"), interrupt);
//
// c-ares does the work and the caller's thread drives it with poll(2): no thread is created,
// nothing outlives the call (each lookup has its own c-ares channel, which reads
// /etc/resolv.conf), so a fork() child inherits no resolver state but the descriptors of a
// lookup another thread had in progress at fork time. /etc/hosts is read before DNS as
// c-ares does by default ("localhost" needs no server); IP literals skip the resolver.
//
// Errors are mongoslice::Error and name the host:
//   errc::timeout            the deadline passed (thrown at the deadline; the limit and its
//                            option are in the message)
//   errc::interrupted        InterruptSlot::interrupt() was called
//   errc::network_error      the lookup failed: c-ares's message ("Domain name not found", ...),
//                            or a system call of the lookup failed
//   errc::invalid_argument   a DnsOptions::servers entry c-ares does not accept

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "net/deadline.hpp"
#include "wire/address.hpp"

// c-ares's types, for the helpers shared with net/async_dns_resolver.cpp (below).
struct ares_channeldata;
struct ares_options;
struct ares_addrinfo_node;

namespace mongoslice {

// One SRV record: a target host and port (RFC 2782), its priority and weight as given.
struct SrvRecord {
  std::string target;
  std::uint16_t port = 0;
  std::uint16_t priority = 0;
  std::uint16_t weight = 0;
};

struct DnsOptions {
  // Name servers to ask instead of those /etc/resolv.conf lists (for tests and special
  // deployments), each "IPv4", "IPv4:port" or "[IPv6]:port", e.g. "127.0.0.1:5353". Empty: the
  // system's. /etc/hosts is consulted first either way.
  std::vector<std::string> servers;
};

// How another thread breaks a blocking wait without a lock: a sticky flag, and a slot where the
// waiting thread publishes the socket it waits on (a TCP socket, or the wake-up socket of a
// lookup) so that interrupt() can shut it down, which wakes the wait in the kernel.
//
// Protocol: interrupt() sets the flag, counts itself in, then reads the slot; the owner
// publishes, then reads the flag (sequentially consistent atomics: one of the two always sees
// the other). withdraw() empties the slot and waits for the interrupters counted in to leave
// (one system call), so an interrupt never shuts down a descriptor number after its owner
// closed it and the number went to someone else.
//
// fork(): the slot and the count carry the fork generation they were written in. interrupt()
// shuts a descriptor down only if this process published it, never one inherited from the
// parent (the parent still uses it; DESIGN.md invariant 8), and withdraw() ignores a count
// inherited from a parent thread that was inside interrupt() at fork time (that thread does not
// exist in the child).
class InterruptSlot {
 public:
  // Makes sure current_fork_generation() has installed its handler, so that interrupt() only
  // loads it.
  InterruptSlot() noexcept;
  InterruptSlot(const InterruptSlot&) = delete;
  InterruptSlot& operator=(const InterruptSlot&) = delete;

  // From any thread, at any time while the slot lives. noexcept, lock-free, allocation-free:
  // atomic operations and at most one shutdown(2).
  void interrupt() noexcept;
  bool interrupted() const noexcept { return interrupted_.load(); }

  // The owner's side. `fd` is a socket this process opened, and stays open until withdraw()
  // returns. After publishing, the owner checks interrupted(): an interrupt that came just
  // before may have found the slot empty.
  void publish(int fd) noexcept;
  void withdraw() noexcept;

 private:
  std::atomic<bool> interrupted_{false};
  std::atomic<std::uint64_t> published_{0};     // generation << 32 | (fd + 1); low half 0: none
  std::atomic<std::uint64_t> interrupters_{0};  // generation << 32 | interrupt() calls inside
};

// Shared with net/async_dns_resolver.cpp, so that both resolvers configure c-ares alike.
// ares_library_init's status (it runs once per process, and is never cleaned up).
int dns_library_status() noexcept;
// A channel configured as DnsResolver's (the servers of `options`, close-on-exec sockets), with
// `extra` passed to ares_init_options when not null. Throws as the header says (`where` opens
// the message). The caller ares_destroy()s it.
ares_channeldata* open_dns_channel(const DnsOptions& options, const std::string& where,
                                   ares_options* extra, int extra_mask);
// Appends the IPv4 and IPv6 addresses of `nodes` not in `out` yet, in order.
void collect_addresses(const ares_addrinfo_node* nodes, std::vector<boost::asio::ip::address>& out);

class DnsResolver {
 public:
  explicit DnsResolver(DnsOptions options = {});

  // The addresses of `peer.host` (IPv4 and IPv6, in the order c-ares gives), or throws as the
  // header says. `peer.port` only names the peer in messages. While it waits the lookup
  // publishes a socket in `interrupt`, withdrawn before it returns.
  std::vector<boost::asio::ip::address> resolve(const HostAndPort& peer, const Deadline& deadline,
                                                InterruptSlot& interrupt) const;
  // The same, not interruptible.
  std::vector<boost::asio::ip::address> resolve(const HostAndPort& peer,
                                                const Deadline& deadline) const;

  // The SRV records of `name` (e.g. "_mongodb._tcp.cluster0.example.com"), in the order of the
  // answer. No record (NXDOMAIN, or a name without SRV records) is errc::network_error, as is
  // an answer that does not parse; the deadline and interrupt as for resolve().
  std::vector<SrvRecord> lookup_srv(const std::string& name, const Deadline& deadline,
                                    InterruptSlot& interrupt) const;
  std::vector<SrvRecord> lookup_srv(const std::string& name, const Deadline& deadline) const;
  // The TXT records of `name`, each one text (a record's character-strings concatenated), in
  // the order of the answer; none (NXDOMAIN or no TXT records) is an empty list, not an error.
  std::vector<std::string> lookup_txt(const std::string& name, const Deadline& deadline,
                                      InterruptSlot& interrupt) const;
  std::vector<std::string> lookup_txt(const std::string& name, const Deadline& deadline) const;

  const DnsOptions& options() const noexcept { return options_; }

 private:
  DnsOptions options_;
};

}  // namespace mongoslice
