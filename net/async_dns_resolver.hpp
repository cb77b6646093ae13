#pragma once
// Host name lookups (A and AAAA) for the asynchronous engine: c-ares driven by Asio on the
// caller's executor, no thread of its own.
//
//   auto addresses = co_await co_resolve(executor, {"db.example.com", 27017}, dns_options,
//                                        Deadline::after(200ms, "connectTimeoutMS"));
//
// Like DnsResolver (net/dns_resolver.hpp): one c-ares channel per lookup, configured the same
// way, /etc/hosts before DNS, IP literals skip the resolver, and the same errors (timeout at
// the deadline, network_error with c-ares's message, invalid_argument for a bad server entry).
// c-ares's sockets are watched with Asio descriptors (released before c-ares closes them: Asio
// never closes c-ares's descriptors) and its retransmissions with a timer.
//
// Cancellation: a terminal cancellation of the awaiting coroutine ends the lookup and throws
// Error(ECANCELED) ("resolving <host>: cancelled"). The channel belongs to the coroutine's
// frame: destroying the frame (the io_context destroyed with the lookup pending) destroys it.
//
// Thread-safety: like any Asio I/O object, one lookup runs on one executor; a multi-threaded
// io_context needs a strand.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <vector>

#include "net/deadline.hpp"
#include "net/dns_resolver.hpp"
#include "wire/address.hpp"

namespace mongoslice {

// The addresses of `peer.host` (IPv4 and IPv6, in c-ares's order); `peer.port` only names the
// peer in messages. The arguments must stay valid until it completes.
boost::asio::awaitable<std::vector<boost::asio::ip::address>> co_resolve(
    boost::asio::any_io_executor executor, const HostAndPort& peer, const DnsOptions& options,
    const Deadline& deadline);

}  // namespace mongoslice
