#pragma once
// A database of a MongoClient: a cheap handle (the client's shared state and a name). Like the
// client, it may be copied and used from any number of threads at once. Operations throw
// mongoslice::Error (network, server selection, client closed) and ServerError ({ok: 0}).

#include <memory>
#include <string>
#include <string_view>

#include "driver/collection.hpp"
#include "ops/read_preference.hpp"
#include "wire/bson.hpp"

namespace mongoslice {

class ClientCore;

class Database {
 public:
  Database(std::shared_ptr<ClientCore> core, std::string name)
      : core_(std::move(core)), name_(std::move(name)) {}

  const std::string& name() const noexcept { return name_; }

  Collection collection(std::string_view name) const { return Collection(core_, name_, name); }
  Collection operator[](std::string_view name) const { return collection(name); }

  // Runs `command` (its first key names it; $db is added) and returns the reply. As the
  // server-selection spec says of a generic command method, it is a read for server selection
  // with read preference primary unless one is given here; the client's readPreference does not
  // apply (a command may write). The server is selected by that read preference, and the
  // command carries `$readPreference` where the spec says so (a secondary, a mongos, a direct
  // connection; never to a standalone), unless it names its own. It is the caller's choice to
  // send only commands that can run where the read preference leads.
  // Throws ServerError for {ok: 0}, with the server's code and message.
  bson::Document run_command(bson::View command) const;
  bson::Document run_command(bson::View command, const ReadPreference& read_preference) const;

 private:
  std::shared_ptr<ClientCore> core_;
  std::string name_;
};

}  // namespace mongoslice
