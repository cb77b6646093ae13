#include "cursor/kill_cursors_task.hpp"

#include <algorithm>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "ops/commands.hpp"
#include "wire/error.hpp"
#include "wire/fork_generation.hpp"

namespace mongoslice {
namespace {

// What happens to a group of records: sent, or dropped for one reason.
struct Group {
  std::optional<KillDropReason> drop;  // empty: send
  const KillRecord* first;             // names the server and namespace
  std::vector<std::int64_t> ids;       // in drain (push) order
};

// Groups the drained records by (fate, server, namespace) in order of first appearance. Records
// of another fork generation, and records pushed after close, are put aside for dropping.
std::vector<Group> group_records(const KillList& records, std::optional<KillDropReason> drop_all,
                                 std::size_t& count) {
  using Key = std::tuple<int, std::string_view, std::uint16_t, std::string_view, std::string_view>;
  std::map<Key, std::size_t> index;
  std::vector<Group> groups;
  const std::uint64_t generation = current_fork_generation();
  count = 0;
  for (const KillRecord& record : records) {
    ++count;
    std::optional<KillDropReason> drop = drop_all;
    if (record.fork_generation != generation) {
      drop = KillDropReason::after_fork;
    } else if (record.pushed_after_close) {
      drop = KillDropReason::client_closed;
    }
    Key key{drop ? static_cast<int>(*drop) : -1, record.server.host, record.server.port,
            record.ns.db, record.ns.collection};
    auto [it, inserted] = index.try_emplace(key, groups.size());
    if (inserted) groups.push_back(Group{drop, &record, {}});
    groups[it->second].ids.push_back(record.cursor_id);
  }
  return groups;
}

// How many ids fit in one command under both limits. An array element costs its type byte, its
// key (the decimal index, at most 10 digits, and a NUL) and 8 bytes of int64.
std::size_t ids_per_command(const Namespace& ns, const KillCursorsTaskOptions& options) {
  constexpr std::size_t kBytesPerId = 1 + 11 + 8;
  constexpr std::size_t kFixedOverhead = 64;  // document headers, field names, terminators
  std::size_t overhead = kFixedOverhead + ns.db.size() + ns.collection.size();
  std::size_t by_bytes = options.max_command_bytes > overhead
                             ? (options.max_command_bytes - overhead) / kBytesPerId
                             : 1;
  return std::max<std::size_t>(1, std::min(options.max_ids_per_command, by_bytes));
}

void send_group(const Group& group, KillCursorsSender& sender, KillCursorsObserver& observer,
                const KillCursorsTaskOptions& options, KillCursorsTaskResult& result) {
  const HostAndPort& server = group.first->server;
  const Namespace& ns = group.first->ns;
  const std::size_t chunk = ids_per_command(ns, options);
  std::span<const std::int64_t> all(group.ids);
  for (std::size_t begin = 0; begin < all.size(); begin += chunk) {
    auto ids = all.subspan(begin, std::min(chunk, all.size() - begin));
    ++result.commands;
    std::optional<bson::Document> reply;
    std::string failure;
    try {
      bson::Document command = wire::make_kill_cursors(ns.db, ns.collection, ids);
      reply = sender.send(server, ns.db, command);
    } catch (const std::exception& error) {
      failure = error.what();
    } catch (...) {
      failure = "unknown exception";
    }
    if (!reply) {
      observer.on_dropped(server, ns, ids, KillDropReason::send_failed, failure);
      result.dropped += ids.size();
      continue;
    }
    std::optional<ServerError> server_error;
    try {
      server_error = ServerError::from_reply(*reply);
    } catch (const std::exception& error) {
      // Could not even read the error; say so rather than lose the report.
      observer.on_dropped(server, ns, ids, KillDropReason::server_error, error.what());
      result.dropped += ids.size();
      continue;
    }
    if (server_error) {
      observer.on_dropped(server, ns, ids, KillDropReason::server_error, server_error->what());
      result.dropped += ids.size();
    } else {
      observer.on_sent(server, ns, ids, *reply);
      result.sent += ids.size();
    }
  }
}

KillCursorsTaskResult process(KillList records, KillCursorsSender* sender,
                              KillCursorsObserver& observer, const KillCursorsTaskOptions& options,
                              std::optional<KillDropReason> drop_all, std::string_view detail) {
  KillCursorsTaskResult result;
  if (records.empty()) return result;
  std::vector<Group> groups = group_records(records, drop_all, result.drained);
  for (const Group& group : groups) {
    if (!group.drop) {
      send_group(group, *sender, observer, options, result);
      continue;
    }
    std::string_view why = detail;
    if (*group.drop == KillDropReason::after_fork) {
      why = "the cursor was opened by the parent process before fork()";
    } else if (!drop_all) {
      why = "the cursor was destroyed after its client was closed";
    }
    observer.on_dropped(group.first->server, group.first->ns, group.ids, *group.drop, why);
    result.dropped += group.ids.size();
  }
  return result;
}

}  // namespace

std::string_view to_string(KillDropReason reason) noexcept {
  switch (reason) {
    case KillDropReason::send_failed:
      return "send failed";
    case KillDropReason::server_error:
      return "server error";
    case KillDropReason::after_fork:
      return "after fork";
    case KillDropReason::client_closed:
      return "client closed";
  }
  return "unknown";
}

KillCursorsTaskResult run_kill_cursors(KillQueue& queue, KillCursorsSender& sender,
                                       KillCursorsObserver& observer,
                                       const KillCursorsTaskOptions& options) {
  return process(queue.drain(), &sender, observer, options, std::nullopt, {});
}

KillCursorsTaskResult send_kill_list(KillList records, KillCursorsSender& sender,
                                     KillCursorsObserver& observer,
                                     const KillCursorsTaskOptions& options) {
  return process(std::move(records), &sender, observer, options, std::nullopt, {});
}

KillCursorsTaskResult drop_pending_kills(KillQueue& queue, KillCursorsObserver& observer,
                                         KillDropReason reason, std::string_view detail) {
  return process(queue.drain(), nullptr, observer, {}, reason, detail);
}

}  // namespace mongoslice
