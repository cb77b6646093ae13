// Database::aggregate: the database-level aggregate ({aggregate: 1}), run as Collection's
// aggregate is (detail::run_aggregate in driver/collection_read.cpp).
#include "driver/client_core.hpp"
#include "driver/database.hpp"
#include "ops/read_ops.hpp"

namespace mongoslice {

Cursor Database::aggregate(bson::View pipeline, const AggregateOptions& options) const {
  static const ReadConcern server_default_read;
  static const WriteConcern server_default_write;
  return detail::run_aggregate(
      *core_, name_, std::nullopt, pipeline, options,
      options_.read_preference ? *options_.read_preference : core_->uri().read_preference,
      options_.read_concern ? *options_.read_concern : server_default_read,
      options_.write_concern ? *options_.write_concern : server_default_write, session_.get());
}

boost::asio::awaitable<Cursor> Database::co_aggregate(Database self, bson::View pipeline,
                                                      AggregateOptions options) {
  static const ReadConcern server_default_read;
  static const WriteConcern server_default_write;
  ReadPreference read_preference = self.options_.read_preference
                                       ? *self.options_.read_preference
                                       : self.core_->uri().read_preference;
  co_return co_await detail::co_run_aggregate(
      self.core_, self.name_, std::nullopt, pipeline, std::move(options), read_preference,
      self.options_.read_concern ? *self.options_.read_concern : server_default_read,
      self.options_.write_concern ? *self.options_.write_concern : server_default_write,
      self.session_);
}

Cursor Database::aggregate(const std::vector<bson::Document>& pipeline,
                           const AggregateOptions& options) const {
  return aggregate(wire::pipeline_of(pipeline).view(), options);
}

}  // namespace mongoslice
