#include "driver/mongo_client.hpp"

#include "driver/client_core.hpp"

namespace mongoslice {

MongoClient::MongoClient(std::string_view uri, ClientOptions options)
    : core_(ClientCore::create(ConnectionString::parse(uri), std::move(options))) {
}

MongoClient::~MongoClient() {
  close();
}

MongoClient& MongoClient::operator=(MongoClient&& other) noexcept {
  if (this != &other) {
    close();
    core_ = std::move(other.core_);
  }
  return *this;
}

void MongoClient::close() noexcept {
  if (core_) core_->close();
}

Database MongoClient::database(std::string_view name) const {
  if (!core_) throw Error(errc::client_closed, "this MongoClient was moved from");
  return Database(core_, std::string(name));
}

std::uint64_t MongoClient::orphaned_kills() const noexcept {
  return core_ ? core_->orphaned_kills() : 0;
}

PeriodicExecutor& MongoClient::kill_cursors_executor() const {
  return core_->kill_cursors_executor();
}

}  // namespace mongoslice
