#pragma once
// The session a cursor's commands belong to (the sessions spec): a cursor made by a command
// that carried an lsid must send that lsid with every getMore, or the server refuses the
// getMore. The cursor layer knows no session pool: the driver hands the Cursor one of these,
// and the Cursor releases it when the server cursor is exhausted, closed or abandoned.
//
// release() runs inside Cursor's destructor, so it must not block, take a lock or allocate
// (invariant 1): the driver's gives the session back to its pool with one lock-free push
// (driver/server_session_pool.hpp), freeing only a pool its client has left behind. A cursor
// made in an explicit session frees its small holder (driver/client_session.cpp); when that was
// the last reference to the session's server session (the session has ended), the server
// session goes back to the pool by that same push.

#include <memory>

#include "wire/bson.hpp"

namespace mongoslice {

class CursorSession {
 public:
  // {id: <UUID>}, valid until release().
  virtual bson::View lsid() const noexcept = 0;
  // Hands the session back to whoever gave it; it is not used again.
  virtual void release() noexcept = 0;

 protected:
  ~CursorSession() = default;  // released, never deleted through this type
};

struct ReleaseCursorSession {
  void operator()(CursorSession* session) const noexcept { session->release(); }
};
using CursorSessionPtr = std::unique_ptr<CursorSession, ReleaseCursorSession>;

}  // namespace mongoslice
