#include "driver/server_session_pool.hpp"

#include <openssl/rand.h>

#include <array>

#include "wire/error.hpp"
#include "wire/fork_generation.hpp"

namespace mongoslice {
namespace {

bool about_to_expire(SteadyClock::time_point last_used, std::chrono::minutes timeout,
                     SteadyClock::time_point now) {
  // The spec's margin: a command sent with less than a minute left could reach the server
  // after the session expired there.
  return last_used + timeout - std::chrono::minutes(1) <= now;
}

}  // namespace

void ServerSession::release() noexcept {
  last_used_ = SteadyClock::now();
  // Moved out first: once pushed, the session belongs to the pool (which another thread may
  // hand out again at once); our reference to the pool is dropped after the push.
  std::shared_ptr<ServerSessionPool> pool = std::move(home_);
  pool->push_returned(this);
}

void ServerSessionPool::push_returned(ServerSession* session) noexcept {
  ServerSession* head = returned_.load(std::memory_order_relaxed);
  do {
    session->next_returned_ = head;
  } while (!returned_.compare_exchange_weak(head, session, std::memory_order_release,
                                            std::memory_order_relaxed));
}

ServerSessionLease ServerSessionPool::acquire(std::chrono::minutes timeout) {
  const auto now = SteadyClock::now();
  std::unique_ptr<ServerSession> session;
  {
    std::lock_guard lock(mutex_);
    collect_returned_locked();
    // The oldest are at the back: those about to expire go first, so that what is left is good.
    while (!idle_.empty() && about_to_expire(idle_.back()->last_used_, timeout, now)) {
      idle_.pop_back();
    }
    if (!idle_.empty()) {
      session = std::move(idle_.front());
      idle_.pop_front();
    }
  }
  if (!session) {
    std::array<std::uint8_t, 16> id{};
    if (RAND_bytes(id.data(), static_cast<int>(id.size())) != 1) {
      throw Error(errc::invalid_argument, "no random bytes for a session id (RAND_bytes failed)");
    }
    id[6] = static_cast<std::uint8_t>((id[6] & 0x0f) | 0x40);  // version 4 (random)
    id[8] = static_cast<std::uint8_t>((id[8] & 0x3f) | 0x80);  // the RFC 4122 variant
    session.reset(new ServerSession());
    session->lsid_ = bson::Builder{}.append_binary("id", 4, id).build();
    session->fork_generation_ = current_fork_generation();
  }
  session->home_ = shared_from_this();
  return ServerSessionLease(session.release());
}

void ServerSessionPool::collect_returned_locked() {
  // Taking the whole stack at once cannot suffer ABA: nothing is popped one by one.
  ServerSession* node = returned_.exchange(nullptr, std::memory_order_acquire);
  // The stack's top is the last returned: walking it, each is older than the one before, so
  // each goes behind those already collected, and all of them before what was pooled.
  std::vector<std::unique_ptr<ServerSession>> newest_first;
  for (; node; node = node->next_returned_) newest_first.emplace_back(node);
  const std::uint64_t generation = current_fork_generation();
  for (auto it = newest_first.rbegin(); it != newest_first.rend(); ++it) {
    if ((*it)->dirty_ || (*it)->fork_generation_ != generation) continue;  // dropped
    (*it)->next_returned_ = nullptr;
    idle_.push_front(std::move(*it));
  }
  // In a fork() child, what the parent had pooled is the parent's; the child's own are newer.
  while (!idle_.empty() && idle_.back()->fork_generation_ != generation) idle_.pop_back();
}

std::vector<bson::Document> ServerSessionPool::take_all() {
  std::lock_guard lock(mutex_);
  collect_returned_locked();
  std::vector<bson::Document> lsids;
  lsids.reserve(idle_.size());
  for (auto& session : idle_) lsids.push_back(std::move(session->lsid_));
  idle_.clear();
  return lsids;
}

std::size_t ServerSessionPool::size() {
  std::lock_guard lock(mutex_);
  collect_returned_locked();
  return idle_.size();
}

ServerSessionPool::~ServerSessionPool() {
  ServerSession* node = returned_.exchange(nullptr);
  while (node) {
    std::unique_ptr<ServerSession> owned(node);
    node = node->next_returned_;
  }
}

}  // namespace mongoslice
