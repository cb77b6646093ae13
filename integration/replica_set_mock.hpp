#pragma once
// integration/mock/replica_set.py from a test: the three members' URI, its control commands
// (see the mock's docstring), and its command log. The mock exits when this object (its stdin
// pipe) goes.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/test_servers.hpp"
#include "wire/bson.hpp"

namespace mongoslice::integration {

class ReplicaSetMock {
 public:
  ReplicaSetMock() : process_("replica_set.py", {}) {
    std::istringstream line(process_.read_line());
    std::vector<int> ports;
    for (int port; line >> port;) ports.push_back(port);
    if (ports.size() != 4) throw std::runtime_error("replica_set.py printed no ports");
    control_port_ = ports.back();
    ports.pop_back();
    members_ = ports;
  }

  std::string uri(const std::string& options = "") const {
    std::string hosts;
    for (int port : members_)
      hosts += (hosts.empty() ? "" : ",") + ("127.0.0.1:" + std::to_string(port));
    return "mongodb://" + hosts + "/?replicaSet=rs0&serverSelectionTimeoutMS=10000" + options;
  }

  // One control command (replica_set.py's docstring); returns its JSON reply line.
  std::string control(const std::string& command) const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(control_port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      if (fd >= 0) ::close(fd);
      throw std::runtime_error("cannot reach the mock's control port");
    }
    timeval timeout{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    const std::string text = command + "\n";
    (void)::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
    std::string reply;
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) reply.append(buffer, n);
    ::close(fd);
    if (reply.find("\"ok\": true") == std::string::npos &&
        reply.find("\"ok\":true") == std::string::npos) {
      throw std::runtime_error("control '" + command + "' failed: " + reply);
    }
    return reply;
  }

  // The log's entries since the last call, as JSON documents.
  std::vector<bson::Document> log() const {
    bson::Document reply = bson::Document::from_json(control("log"));
    std::vector<bson::Document> entries;
    for (const bson::Element& e : reply.view()["log"].get_array()) {
      entries.emplace_back(e.get_document());
    }
    return entries;
  }

  // "127.0.0.1:port" of member i.
  std::string host(int i) const { return "127.0.0.1:" + std::to_string(members_.at(i)); }

  int primary() const {
    bson::Document state = bson::Document::from_json(control("state"));
    return static_cast<int>(state.view()["primary"].as_int64());
  }

 private:
  MockProcess process_;
  std::vector<int> members_;
  int control_port_ = 0;
};

}  // namespace mongoslice::integration
