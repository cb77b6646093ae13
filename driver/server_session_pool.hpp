#pragma once
// The server session pool of one client (the driver sessions spec): the lsids its commands run
// in. Internal to driver/.
//
// Sessions are handed out most recently used first, so that a few sessions serve a busy client
// and the server keeps few alive. A session that has less than a minute left before the server
// would expire it (logicalSessionTimeoutMinutes after its last use) is never handed out: it is
// dropped. A session marked dirty (a network error broke a command that used it) is dropped when
// it comes back, since the server may still be running that command in it. In a fork() child the
// sessions the parent made are dropped too: parent and child would otherwise share lsids.
//
// Returns are lock-free (a Cursor's destructor returns the session its getMores used): a
// session's release() pushes it onto the pool's intrusive stack with compare-and-swap, never
// blocking or allocating; acquire() moves what was returned into the pool under its mutex. A
// session handed out keeps its pool alive (a cursor may outlive its client); the release that
// drops a gone client's pool's last reference frees the pool, and only that one frees.
//
// Thread-safety: every member may be called from any thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "cursor/cursor_session.hpp"
#include "net/deadline.hpp"
#include "wire/bson.hpp"

namespace mongoslice {

class ServerSessionPool;

class ServerSession final : public CursorSession {
 public:
  bson::View lsid() const noexcept override { return lsid_.view(); }
  // Back to the pool it came from: never blocks or allocates; frees only when it drops the last
  // reference to a pool whose client is gone.
  void release() noexcept override;

  // The next txnNumber: each retryable write command takes one (its retry reuses it).
  std::int64_t next_txn_number() noexcept { return ++txn_number_; }
  // A network error broke a command in this session: the pool drops it when it comes back.
  void mark_dirty() noexcept { dirty_ = true; }
  bool dirty() const noexcept { return dirty_; }

  ~ServerSession() = default;

 private:
  friend class ServerSessionPool;
  ServerSession() = default;

  bson::Document lsid_;  // {id: <16 random bytes, a version 4 UUID, binary subtype 4>}
  SteadyClock::time_point last_used_{};
  std::int64_t txn_number_ = 0;
  bool dirty_ = false;
  std::uint64_t fork_generation_ = 0;
  std::shared_ptr<ServerSessionPool> home_;  // set while handed out
  ServerSession* next_returned_ = nullptr;   // the link on the pool's return stack
};

// A session handed out: released (not deleted) when it goes.
using ServerSessionLease = std::unique_ptr<ServerSession, ReleaseCursorSession>;

class ServerSessionPool : public std::enable_shared_from_this<ServerSessionPool> {
 public:
  static std::shared_ptr<ServerSessionPool> create() {
    return std::shared_ptr<ServerSessionPool>(new ServerSessionPool());
  }
  ServerSessionPool(const ServerSessionPool&) = delete;
  ServerSessionPool& operator=(const ServerSessionPool&) = delete;
  ~ServerSessionPool();

  // The most recently used session that is not about to expire, or a new one. `timeout` is the
  // deployment's logicalSessionTimeoutMinutes. Throws std::bad_alloc, and Error when OpenSSL
  // has no random bytes for a new lsid.
  ServerSessionLease acquire(std::chrono::minutes timeout);
  // The lsids of every pooled session, which leave the pool (endSessions at close()).
  std::vector<bson::Document> take_all();
  // How many sessions are pooled now (tests).
  std::size_t size();

 private:
  friend class ServerSession;
  ServerSessionPool() = default;
  void push_returned(ServerSession* session) noexcept;
  // Moves what was returned into idle_ (under mutex_), dropping dirty and inherited sessions.
  void collect_returned_locked();

  std::atomic<ServerSession*> returned_{nullptr};
  std::mutex mutex_;
  std::deque<std::unique_ptr<ServerSession>> idle_;  // front: the most recently used
};

}  // namespace mongoslice
