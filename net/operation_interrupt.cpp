#include "net/operation_interrupt.hpp"

#include "net/connection.hpp"
#include "net/connection_pool.hpp"

namespace mongoslice {

void OperationInterrupt::interrupt() noexcept {
  interrupted_.store(true);
  interrupters_.fetch_add(1);
  if (Connection* connection = connection_.load()) connection->interrupt();
  if (ConnectionPool* pool = pool_.load()) pool->wake_waiters();
  interrupters_.fetch_sub(1);
}

void OperationInterrupt::break_published() noexcept {
  interrupters_.fetch_add(1);
  if (Connection* connection = connection_.load()) connection->interrupt();
  interrupters_.fetch_sub(1);
}

bool OperationInterrupt::publish(Connection* connection) noexcept {
  connection_.store(connection);
  if (!interrupted_.load()) return true;
  connection->interrupt();  // the interrupter may have read the old (null) pointer
  return false;
}

bool OperationInterrupt::publish(ConnectionPool* pool) noexcept {
  pool_.store(pool);
  if (!interrupted_.load()) return true;
  pool->wake_waiters();
  return false;
}

void OperationInterrupt::withdraw() noexcept {
  connection_.store(nullptr);
  pool_.store(nullptr);
  while (interrupters_.load() != 0) std::this_thread::yield();
}

}  // namespace mongoslice
