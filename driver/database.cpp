#include "driver/database.hpp"

#include "driver/client_core.hpp"

namespace mongoslice {

bson::Document Database::run_command(bson::View command) const {
  return core_->run_read(name_, command).reply;
}

}  // namespace mongoslice
