#pragma once
// A DNS server on 127.0.0.1 (a free UDP port) that answers from a zone held in memory: A, SRV
// and TXT records by name (case-insensitive). A name it does not know gets NXDOMAIN; a known
// name asked for a type it has no record of gets an empty answer (NOERROR, no data). Answers
// are sent at once, uncompressed except for the question's name. For the seedlist tests
// (mongodb+srv://), which the specification runs against records a real name server holds.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace mongoslice::testing {

struct DnsZone {
  struct Srv {
    std::uint16_t port = 0;
    std::string target;
  };
  std::map<std::string, std::vector<std::string>> a;                 // name -> IPv4 addresses
  std::map<std::string, std::vector<Srv>> srv;                       // name -> SRV records
  std::map<std::string, std::vector<std::vector<std::string>>> txt;  // name -> records of strings

  static std::string key(std::string name) {
    if (!name.empty() && name.back() == '.') name.pop_back();
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name;
  }
};

class DnsZoneServer {
 public:
  explicit DnsZoneServer(DnsZone zone) : zone_(std::move(zone)) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        ::pipe2(stop_, O_CLOEXEC) != 0) {
      throw std::runtime_error("DnsZoneServer: cannot bind 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~DnsZoneServer() {
    char byte = 0;
    (void)!::write(stop_[1], &byte, 1);
    thread_.join();
    ::close(fd_);
    ::close(stop_[0]);
    ::close(stop_[1]);
  }
  DnsZoneServer(const DnsZoneServer&) = delete;
  DnsZoneServer& operator=(const DnsZoneServer&) = delete;

  // "127.0.0.1:<port>", for DnsOptions::servers.
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }
  int queries() const { return queries_.load(); }

  // Replaces the zone (the SRV polling tests change the records while a client runs).
  void set_zone(DnsZone zone) {
    std::lock_guard lock(mutex_);
    zone_ = std::move(zone);
  }

 private:
  static void put16(std::vector<std::uint8_t>& out, unsigned v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
  }
  static void put_name(std::vector<std::uint8_t>& out, const std::string& name) {
    std::size_t start = 0;
    const std::string n = DnsZone::key(name);
    while (start < n.size()) {
      std::size_t dot = n.find('.', start);
      if (dot == std::string::npos) dot = n.size();
      out.push_back(static_cast<std::uint8_t>(dot - start));
      out.insert(out.end(), n.begin() + static_cast<std::ptrdiff_t>(start),
                 n.begin() + static_cast<std::ptrdiff_t>(dot));
      start = dot + 1;
    }
    out.push_back(0);
  }
  // A record's common part: the name as a pointer to the question, type, class IN, TTL 60,
  // then the data's length and the data.
  static void put_record(std::vector<std::uint8_t>& out, unsigned type,
                         const std::vector<std::uint8_t>& data) {
    const std::uint8_t head[] = {0xc0, 12};
    out.insert(out.end(), std::begin(head), std::end(head));
    put16(out, type);
    put16(out, 1);
    put16(out, 0);
    put16(out, 60);
    put16(out, static_cast<unsigned>(data.size()));
    out.insert(out.end(), data.begin(), data.end());
  }

  void serve() {
    for (;;) {
      pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) continue;
      if (fds[1].revents) return;
      if (fds[0].revents & POLLIN) answer();
    }
  }

  void answer() {
    std::uint8_t query[512];
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    ssize_t n =
        ::recvfrom(fd_, query, sizeof query, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 12) return;
    std::size_t at = 12;
    std::string name;
    while (at < static_cast<std::size_t>(n) && query[at] != 0) {
      std::size_t length = query[at++];
      if (length > 63 || at + length > static_cast<std::size_t>(n)) return;
      if (!name.empty()) name += '.';
      name.append(reinterpret_cast<const char*>(query + at), length);
      at += length;
    }
    if (at + 5 > static_cast<std::size_t>(n)) return;
    const std::size_t question_end = at + 5;
    const unsigned type = static_cast<unsigned>(query[at + 1] << 8 | query[at + 2]);
    ++queries_;
    name = DnsZone::key(name);

    std::vector<std::vector<std::uint8_t>> records;
    bool known = false;
    {
      std::lock_guard lock(mutex_);
      if (auto it = zone_.a.find(name); it != zone_.a.end()) {
        known = true;
        if (type == 1) {
          for (const auto& text : it->second) {
            in_addr v4{};
            if (::inet_pton(AF_INET, text.c_str(), &v4) != 1) continue;
            const auto* b = reinterpret_cast<const std::uint8_t*>(&v4);
            records.push_back({b, b + 4});
          }
        }
      }
      if (auto it = zone_.srv.find(name); it != zone_.srv.end()) {
        known = true;
        if (type == 33) {
          for (const auto& s : it->second) {
            std::vector<std::uint8_t> data;
            put16(data, 0);  // priority
            put16(data, 0);  // weight
            put16(data, s.port);
            put_name(data, s.target);
            records.push_back(std::move(data));
          }
        }
      }
      if (auto it = zone_.txt.find(name); it != zone_.txt.end()) {
        known = true;
        if (type == 16) {
          for (const auto& strings : it->second) {
            std::vector<std::uint8_t> data;
            for (const auto& s : strings) {
              data.push_back(static_cast<std::uint8_t>(std::min<std::size_t>(s.size(), 255)));
              data.insert(
                  data.end(), s.begin(),
                  s.begin() + std::min<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(s.size()), 255));
            }
            records.push_back(std::move(data));
          }
        }
      }
    }
    // The query's id; QR, AA, RD, RA and the rcode (3: NXDOMAIN); one question, the answers.
    std::vector<std::uint8_t> reply = {query[0], query[1], 0x85,
                                       static_cast<std::uint8_t>(0x80 | (known ? 0 : 3))};
    put16(reply, 1);
    put16(reply, static_cast<unsigned>(records.size()));
    put16(reply, 0);
    put16(reply, 0);
    reply.insert(reply.end(), query + 12, query + question_end);
    for (const auto& data : records) put_record(reply, type, data);
    ::sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<const sockaddr*>(&from),
             sizeof from);
  }

  std::mutex mutex_;
  DnsZone zone_;
  int fd_ = -1;
  int stop_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::atomic<int> queries_{0};
  std::thread thread_;
};

// A UDP socket bound on 127.0.0.1 that never reads: every query sent to it goes unanswered (a
// lookup's deadline and interrupt tests).
class SilentDnsServer {
 public:
  SilentDnsServer() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("SilentDnsServer: cannot bind 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~SilentDnsServer() { ::close(fd_); }
  SilentDnsServer(const SilentDnsServer&) = delete;
  SilentDnsServer& operator=(const SilentDnsServer&) = delete;

  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace mongoslice::testing
