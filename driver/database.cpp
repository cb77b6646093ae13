#include "driver/database.hpp"

#include "driver/client_core.hpp"

namespace mongoslice {

bson::Document Database::run_command(bson::View command) const {
  return run_command(command, ReadPreference{});  // primary, whatever the client's default
}

bson::Document Database::run_command(bson::View command,
                                     const ReadPreference& read_preference) const {
  return core_->run_read(name_, command, read_preference).reply;
}

}  // namespace mongoslice
