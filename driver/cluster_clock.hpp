#pragma once
// The client's cluster time (the sessions spec's $clusterTime gossip): the greatest
// {clusterTime, signature} any reply carried, operations' and monitors' hellos alike, sent with
// every later command. Shared by the ClientCore (operations) and its Topology (monitors' threads).

#include <memory>
#include <mutex>

#include "wire/bson.hpp"

namespace mongoslice {

class ClusterClock {
 public:
  // Reads `reply`'s $clusterTime, if it has one of the right shape, and keeps it if it is later.
  void advance(bson::View reply) {
    auto field = reply.find("$clusterTime");
    if (!field || field->type() != bson::Type::kDocument) return;
    bson::View given = field->get_document();
    auto time = given.find("clusterTime");
    if (!time || time->type() != bson::Type::kTimestamp) return;
    const bson::Timestamp t = time->get_timestamp();
    std::lock_guard lock(mutex_);
    if (current_) {
      const bson::Timestamp known = current_->view()["clusterTime"].get_timestamp();
      if (t.t < known.t || (t.t == known.t && t.i <= known.i)) return;
    }
    current_ = std::make_shared<const bson::Document>(bson::Document(given));
  }
  std::shared_ptr<const bson::Document> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const bson::Document> current_;  // {clusterTime: Timestamp, signature}
};

}  // namespace mongoslice
