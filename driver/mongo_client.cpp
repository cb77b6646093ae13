#include "driver/mongo_client.hpp"

#include "driver/client_core.hpp"
#include "driver/client_session_state.hpp"
#include "driver/engines.hpp"
#include "ops/catalog_operations.hpp"

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

const ConnectionString& MongoClient::uri() const {
  if (!core_) throw Error(errc::client_closed, "this MongoClient was moved from");
  return core_->uri();
}

ClientSession MongoClient::start_session(const SessionOptions& options) const {
  if (!core_) throw Error(errc::client_closed, "this MongoClient was moved from");
  if (core_->closed()) throw Error(errc::client_closed, "the client is closed");
  return ClientSession(
      std::make_shared<ClientSessionState>(*core_, core_->session_pool(), options));
}

Database MongoClient::database(std::string_view name) const {
  if (!core_) throw Error(errc::client_closed, "this MongoClient was moved from");
  // The URI's concerns and read preference become the handle's options, so every Database and
  // Collection of this client carries them unless with_options() overrides them.
  const ConnectionString& uri = core_->uri();
  HandleOptions options;
  if (!uri.write_concern.is_server_default()) options.write_concern = uri.write_concern;
  if (!uri.read_concern.is_server_default()) options.read_concern = uri.read_concern;
  options.read_preference = uri.read_preference;
  return Database(core_, std::string(name), std::move(options));
}

namespace {

ListDatabasesOptions name_only() {
  ListDatabasesOptions options;
  options.name_only = true;
  return options;
}

std::string_view name_of(const bson::Document& database) {
  return database["name"].get_string();
}

}  // namespace

// The bodies of the client's operations, written once for both engines (driver/engines.hpp).
struct ClientBodies {
  template <typename Engine>
  static typename Engine::template Task<std::vector<bson::Document>> list_databases(
      Engine engine, const ListDatabasesOptions& options) {
    std::optional<bson::Document> comment;
    if (options.comment) comment = bson::Builder{}.append("comment", *options.comment).build();
    wire::ListDatabasesCommand command;
    if (options.filter) command.filter = options.filter->view();
    command.name_only = options.name_only;
    command.authorized_databases = options.authorized_databases;
    if (comment) command.comment = (*comment)["comment"];
    auto op = ops::list_databases_operation(command);
    auto ran = co_await engine.execute(op, ReadPreference{});
    const bson::Document reply = std::move(ran.result);
    std::vector<bson::Document> databases;
    for (bson::View database : wire::parse_list_databases_reply(reply).databases) {
      databases.emplace_back(database);
    }
    co_return databases;
  }
};

std::vector<bson::Document> MongoClient::list_databases(const ListDatabasesOptions& options) const {
  if (!core_) throw Error(errc::client_closed, "this MongoClient was moved from");
  return ClientBodies::list_databases(SyncEngine{*core_}, options).run_now();
}

boost::asio::awaitable<std::vector<bson::Document>> MongoClient::co_list_databases(
    std::shared_ptr<ClientCore> core, ListDatabasesOptions options) {
  if (!core) throw Error(errc::client_closed, "this MongoClient was moved from");
  co_return co_await ClientBodies::list_databases(AsyncEngine{std::move(core)}, options);
}

std::optional<boost::asio::any_io_executor> MongoClient::async_executor() const {
  if (!core_) return std::nullopt;
  return core_->async_executor();
}

std::vector<std::string> MongoClient::list_database_names() const {
  std::vector<std::string> names;
  for (const auto& database : list_databases(name_only())) names.emplace_back(name_of(database));
  return names;
}

boost::asio::awaitable<std::vector<std::string>> MongoClient::co_list_database_names(
    std::shared_ptr<ClientCore> core) {
  const ListDatabasesOptions options = name_only();  // named: see driver/engines.hpp (GCC 12)
  auto databases = co_await co_list_databases(std::move(core), options);
  std::vector<std::string> names;
  for (const auto& database : databases) names.emplace_back(name_of(database));
  co_return names;
}

std::uint64_t MongoClient::orphaned_kills() const noexcept {
  return core_ ? core_->orphaned_kills() : 0;
}

PeriodicExecutor& MongoClient::kill_cursors_executor() const {
  return core_->kill_cursors_executor();
}

}  // namespace mongoslice
