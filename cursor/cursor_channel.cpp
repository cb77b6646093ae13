#include "cursor/cursor_channel.hpp"

#include "wire/error.hpp"

namespace mongoslice {

boost::asio::awaitable<bson::Document> CursorChannel::co_get_more(const Namespace& ns, std::int64_t,
                                                                  GetMoreFields) {
  throw Error(errc::invalid_argument,
              "the cursor over " + ns.to_string() + " has no asynchronous channel");
  co_return bson::Document();
}

}  // namespace mongoslice
