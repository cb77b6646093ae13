#pragma once
// The ServerChecker a Monitor uses in production: its own Connection to the server (operations
// never use it), connected and handshaken on the first check and after each failure (the
// handshake's reply is that check's result), then one hello per check: `hello` when the
// connection's handshake said helloOk: true, else the legacy `isMaster` (servers without
// `hello`, e.g. MongoDB 4.2, answer it with CommandNotFound). The choice is made once per
// connection, at its handshake, as the handshake spec's prose words it ("on that connection").
// The spec's monitoring pseudocode re-reads helloOk from every reply instead; we do not, by
// choice: FerretDB leaves helloOk out of its `hello` replies, and re-reading would switch such a
// connection back to isMaster for no reason.
//
// A check fails (throws) on any error, an ok: 0 reply included (a ServerError, whose message is
// the server's): the connection is dropped at once, so the next check connects afresh. A check's
// round trip is bounded by connectTimeoutMS, as the Server Monitoring spec asks of monitoring
// sockets.
//
// The streaming protocol (when CheckerOptions::streaming): once a reply on this connection
// carried a topologyVersion (a document), the next check is an awaitable hello, `hello` (or
// `isMaster`, as above) with that topologyVersion and maxAwaitTimeMS = heartbeatFrequencyMS,
// sent with OP_MSG's exhaustAllowed flag. The server answers when its state changes or
// maxAwaitTimeMS has passed; a reply flagged moreToCome means more follow, so while the server
// streams, a check only reads the next reply and sends nothing. These reads wait up to
// connectTimeoutMS + heartbeatFrequencyMS (no limit when connectTimeoutMS is 0). A reply without
// topologyVersion turns this connection back to plain hellos. Any failure drops the connection
// (and what it learned), so the next check is a new handshake, as the spec's fallback says.

#include <chrono>
#include <memory>
#include <optional>

#include "monitor/server_checker.hpp"
#include "net/connection.hpp"
#include "net/operation_interrupt.hpp"
#include "wire/address.hpp"

namespace mongoslice {

struct CheckerOptions {
  bool streaming = false;                                 // the streaming protocol allowed
  std::chrono::milliseconds heartbeat_frequency{10'000};  // maxAwaitTimeMS of awaitable hellos
};

class ConnectionChecker final : public ServerChecker {
 public:
  ConnectionChecker(HostAndPort address, ConnectionOptions options, CheckerOptions checker = {});
  ~ConnectionChecker() override;

  CheckResult check() override;
  bool next_check_awaited() const noexcept override;
  void interrupt() noexcept override;
  void cancel_check() noexcept override;
  void reset() noexcept override;

 private:
  void install(std::unique_ptr<Connection> connection);
  void drop() noexcept;
  CheckResult awaited_check();
  // Remembers the reply's topologyVersion (or that it had none) for the next check.
  void note_topology_version(bson::View reply);
  Deadline streaming_deadline() const;

  HostAndPort address_;
  ConnectionOptions options_;
  const CheckerOptions checker_options_;
  const std::chrono::milliseconds connect_timeout_;  // as the user gave it (options_ bounds reads)
  // The last reply's topologyVersion on connection_ (streaming only); none: the next check polls.
  std::optional<bson::Document> topology_version_;
  // Built here, on the owner's thread: a function-local static would be destroyed during static
  // destruction while a monitor thread might still use it.
  const bson::Document hello_;
  const bson::Document legacy_hello_;
  // The monitor thread owns connection_ and publishes it in interrupt_ (for its whole life), so
  // that interrupt() from any thread reaches it; drop() withdraws it before destroying it.
  std::unique_ptr<Connection> connection_;
  OperationInterrupt interrupt_;
};

}  // namespace mongoslice
