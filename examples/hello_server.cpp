// hello_server: connects to one server, runs the handshake (hello) and a ping, and prints what
// the server said about itself.
//
//   hello_server --uri mongodb://127.0.0.1:27017
//   hello_server --uri-file build/demo-ferretdb/uri
//   MONGODB_URI=mongodb://127.0.0.1:27017 hello_server

#include <chrono>
#include <fstream>
#include <iostream>
#include <string>

#include "cli.hpp"
#include "driver/connection_string.hpp"
#include "net/connection.hpp"
#include "wire/error.hpp"

namespace {

std::string read_uri_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read --uri-file " + path);
  std::string uri;
  std::getline(in, uri);
  return uri;
}

void print_field(const mongoslice::bson::Document& reply, const char* key) {
  auto element = reply.find(key);
  if (!element) return;
  std::cout << "  " << key << ": ";
  if (element->type() == mongoslice::bson::Type::kString) {
    std::cout << element->get_string();
  } else if (element->is_number()) {
    std::cout << element->as_int64();
  } else if (element->type() == mongoslice::bson::Type::kBool) {
    std::cout << (element->get_bool() ? "true" : "false");
  } else {
    std::cout << "(" << mongoslice::bson::type_name(element->type()) << ")";
  }
  std::cout << "\n";
}

double ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string uri;
  try {
    examples::Args args(argc, argv, {"uri", "uri-file"});
    std::string file = args.get("uri-file", "");
    uri = file.empty() ? examples::uri_from(args) : read_uri_file(file);
  } catch (const std::invalid_argument& e) {
    if (*e.what()) std::cerr << "hello_server: " << e.what() << "\n";
    std::cerr << "usage: hello_server [--uri mongodb://host:port | --uri-file FILE]\n"
                 "       (or set MONGODB_URI)\n";
    return 2;
  }

  try {
    auto parsed = mongoslice::ConnectionString::parse(uri);
    mongoslice::ConnectionOptions options;
    options.connect_timeout = parsed.connect_timeout;
    options.socket_timeout = parsed.socket_timeout;
    options.app_name = parsed.app_name.value_or("hello_server");

    mongoslice::Connection conn(parsed.hosts.front(), options);
    conn.connect();
    const auto& hello = conn.hello_reply();
    std::cout << "connected to " << conn.address().to_string() << " (handshake round trip "
              << ms(conn.handshake_rtt()) << " ms)\n"
              << "the server says:\n";
    for (const char* key :
         {"isWritablePrimary", "ismaster", "msg", "setName", "me", "minWireVersion",
          "maxWireVersion", "maxBsonObjectSize", "maxMessageSizeBytes", "maxWriteBatchSize",
          "logicalSessionTimeoutMinutes", "connectionId", "readOnly"}) {
      print_field(hello, key);
    }

    auto started = std::chrono::steady_clock::now();
    auto pong = conn.run_command("admin", mongoslice::bson::Builder{}.append("ping", 1).build());
    std::cout << "ping: " << pong.to_json() << " in "
              << ms(std::chrono::steady_clock::now() - started) << " ms\n"
              << "whole hello reply: " << hello.to_json() << "\n";
    return 0;
  } catch (const mongoslice::Error& e) {
    std::cerr << "hello_server: " << examples::one_line(e.what()) << "\n";
    return 1;
  }
}
