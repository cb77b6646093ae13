#include "driver/database.hpp"

#include "driver/client_core.hpp"
#include "driver/names.hpp"
#include "ops/catalog_ops.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

// A {comment: value} document, so the ops layer can take the comment as a BSON element.
std::optional<bson::Document> comment_holder(const std::optional<std::string>& comment) {
  if (!comment) return std::nullopt;
  return bson::Builder{}.append("comment", *comment).build();
}

}  // namespace

Database::Database(std::shared_ptr<ClientCore> core, std::string name, HandleOptions options)
    : core_(std::move(core)), name_(std::move(name)), options_(std::move(options)) {
  check_database_name(name_);
}

Database Database::with_options(const HandleOptions& overrides) const {
  return Database(core_, name_, options_.merged_with(overrides));
}

bson::Document Database::run_command(bson::View command) const {
  return run_command(command, ReadPreference{});  // primary, whatever the client's default
}

bson::Document Database::run_command(bson::View command,
                                     const ReadPreference& read_preference) const {
  return core_->run_read(name_, command, read_preference).reply;
}

Cursor Database::list_collections(const ListCollectionsOptions& options) const {
  if (options.batch_size < 0) {
    throw Error(errc::invalid_argument, "list_collections: batch_size must be >= 0");
  }
  const auto comment = comment_holder(options.comment);
  wire::ListCollectionsCommand command;
  if (options.filter) command.filter = options.filter->view();
  command.name_only = options.name_only;
  command.authorized_collections = options.authorized_collections;
  if (options.batch_size > 0) command.batch_size = options.batch_size;
  if (comment) command.comment = (*comment)["comment"];
  auto ran = core_->run_read(name_, wire::make_list_collections(name_, command), ReadPreference{});
  return core_->make_cursor(std::move(ran.reply), {options.batch_size, 0}, ran.server);
}

std::vector<std::string> Database::list_collection_names(const bson::Document& filter) const {
  ListCollectionsOptions options;
  if (!filter.view().empty()) options.filter = filter;
  options.name_only = true;
  std::vector<std::string> names;
  for (bson::View entry : list_collections(options)) {
    names.emplace_back(wire::collection_name_of(entry));
  }
  return names;
}

Collection Database::create_collection(std::string_view name,
                                       const CreateCollectionOptions& options) const {
  check_collection_name(name);  // before the create command goes out
  const auto comment = comment_holder(options.comment);
  wire::CreateCommand command;
  command.capped = options.capped;
  command.size = options.size;
  command.max = options.max;
  if (options.validator) command.validator = options.validator->view();
  if (options.validation_level) command.validation_level = *options.validation_level;
  if (options.validation_action) command.validation_action = *options.validation_action;
  if (options.collation) command.collation = options.collation->view();
  if (comment) command.comment = (*comment)["comment"];
  wire::parse_ok_reply(core_->run_write(name_, wire::make_create(name_, name, command)).reply);
  return collection(name);
}

void Database::drop() const {
  wire::parse_ok_reply(core_->run_write(name_, wire::make_drop_database(name_)).reply);
}

}  // namespace mongoslice
