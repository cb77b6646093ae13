// A cursor opened by the parent must never be killed from a forked child: the child's records of
// the parent's generation are dropped (reported "after fork"), its own are sent.

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "cursor/kill_cursors_task.hpp"
#include "support/cursor_fakes.hpp"
#include "wire/fork_generation.hpp"

namespace mongoslice {
namespace {

// Exit codes of the child, one per failed check, so the parent can say which one failed.
enum ChildStatus {
  kChildOk = 0,
  kGenerationUnchanged = 10,
  kParentCursorSent,
  kWrongDropReport,
  kChildCursorNotSent,
  kWrongCounts,
  kUnexpectedException,
};

int run_child(std::uint64_t parent_generation, std::unique_ptr<KillRecord> parent_record) {
  try {
    if (current_fork_generation() == parent_generation) return kGenerationUnchanged;
    KillQueue queue;
    queue.push(std::move(parent_record));  // e.g. a Cursor inherited from the parent, destroyed
    queue.push(KillRecord::make(2, Namespace{"db", "c"}, HostAndPort{"h", 27017}));
    testing::RecordingSender sender;
    testing::RecordingObserver observer;
    auto result = run_kill_cursors(queue, sender, observer);
    for (const auto& sent : sender.sent) {
      for (bson::Element id : sent.command["cursors"].get_array()) {
        if (id.get_int64() == 1) return kParentCursorSent;
      }
    }
    if (observer.reports.size() != 2 || observer.reports[0].dropped != KillDropReason::after_fork ||
        observer.reports[0].ids != std::vector<std::int64_t>{1}) {
      return kWrongDropReport;
    }
    if (sender.sent.size() != 1 || observer.reports[1].dropped.has_value()) {
      return kChildCursorNotSent;
    }
    if (result.drained != 2 || result.dropped != 1 || result.sent != 1) return kWrongCounts;
    return kChildOk;
  } catch (...) {
    return kUnexpectedException;
  }
}

TEST(ForkGeneration, ChildDropsTheParentsCursorsAndSendsItsOwn) {
  const std::uint64_t parent_generation = current_fork_generation();
  auto parent_record = KillRecord::make(1, Namespace{"db", "c"}, HostAndPort{"h", 27017});
  ASSERT_EQ(parent_record->fork_generation, parent_generation);

  pid_t pid = ::fork();
  ASSERT_NE(pid, -1) << "fork failed";
  if (pid == 0) ::_exit(run_child(parent_generation, std::move(parent_record)));

  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), kChildOk);
  // The parent is untouched: same generation, and its record still its own to send.
  EXPECT_EQ(current_fork_generation(), parent_generation);
  KillQueue queue;
  queue.push(std::move(parent_record));
  testing::RecordingSender sender;
  testing::RecordingObserver observer;
  EXPECT_EQ(run_kill_cursors(queue, sender, observer).sent, 1u);
}

}  // namespace
}  // namespace mongoslice
