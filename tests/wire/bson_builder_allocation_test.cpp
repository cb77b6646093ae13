// The builder's nesting allocates nothing per nested document: up to Builder::kInlineDepth levels
// live inside the builder, deeper ones are allocated once per builder and reused. Counts both
// our allocations (operator new, replaced for this binary) and libbson's (its memory vtable,
// pointed at counting wrappers around malloc for the duration of a test).

#include <bson/bson.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdlib>
#include <string>

#include "support/counting_operator_new.hpp"  // this binary's one replacement of operator new
#include "wire/bson.hpp"

namespace mongoslice {
namespace {

thread_local bool t_counting_bson = false;
thread_local std::size_t t_bson_allocations = 0;

void* counting_malloc(std::size_t size) {
  if (t_counting_bson) ++t_bson_allocations;
  return std::malloc(size);
}
void* counting_calloc(std::size_t count, std::size_t size) {
  if (t_counting_bson) ++t_bson_allocations;
  return std::calloc(count, size);
}
void* counting_realloc(void* p, std::size_t size) {
  if (t_counting_bson) ++t_bson_allocations;
  return std::realloc(p, size);
}

// libbson allocates through this vtable while a test runs; the wrappers forward to the C heap,
// so memory allocated before or after is freed correctly either way.
class LibbsonAllocationCount : public ::testing::Test {
 protected:
  void SetUp() override {
    bson_mem_vtable_t vtable = {counting_malloc, counting_calloc, counting_realloc,
                                std::free,       nullptr,         {}};
    bson_mem_set_vtable(&vtable);
  }
  void TearDown() override { bson_mem_restore_vtable(); }

  // Allocations (ours, libbson's) made by `body` on this thread.
  template <typename F>
  static std::pair<std::size_t, std::size_t> allocations_of(F&& body) {
    t_bson_allocations = 0;
    t_counting_bson = true;
    const std::size_t ours = allocations_during(body);
    t_counting_bson = false;
    return {ours, t_bson_allocations};
  }
};

// How deep the innermost "x" of `element` (a document or array as nest() writes them) lies.
int depth_of(const bson::Element& element, int& x) {
  const bson::View nested =
      element.type() == bson::Type::kArray ? element.get_array() : element.get_document();
  for (const bson::Element& child : nested) {
    if (child.key() == "x") {
      x = child.get_int32();
      return 1;
    }
    return 1 + depth_of(child, x);
  }
  return 1;
}

// `count` nested documents, each `depth` deep, into one builder.
void nest(bson::Builder& builder, int count, int depth) {
  for (int i = 0; i < count; ++i) {
    for (int level = 0; level < depth; ++level) {
      if (level % 2 == 0) {
        builder.open_document(level == 0 ? std::to_string(i) : "d");
      } else {
        builder.open_array("a");
      }
    }
    builder.append("x", i);
    for (int level = 0; level < depth; ++level) builder.close();
  }
}

TEST_F(LibbsonAllocationCount, TheCountersSeeAllocations) {
  // Proves the tests below can fail: a std::string past the small-string buffer and a libbson
  // document that grows past its inline storage are both counted.
  auto [ours, libbson] = allocations_of([] {
    std::string long_key(100, 'k');
    bson_t* doc = bson_new();
    bson_append_utf8(doc, long_key.c_str(), -1, long_key.c_str(), -1);
    bson_destroy(doc);
  });
  EXPECT_GE(ours, 1u);
  EXPECT_GE(libbson, 1u);
}

TEST_F(LibbsonAllocationCount, NestingWithinTheInlineDepthAllocatesNothingOfOurs) {
  bson::Builder builder;
  auto [ours, libbson] =
      allocations_of([&] { nest(builder, 10'000, static_cast<int>(bson::Builder::kInlineDepth)); });
  EXPECT_EQ(ours, 0u) << "an allocation of the builder's own per nested document";
  // libbson grows the one buffer by doubling: a few dozen reallocations for the ~1 MB written,
  // never one per nested document (10,000 here, 80,000 levels).
  EXPECT_LT(libbson, 40u);
  const bson::Document built = builder.build();
  int x = -1;
  EXPECT_EQ(depth_of(built["9999"], x), static_cast<int>(bson::Builder::kInlineDepth));
  EXPECT_EQ(x, 9999);
}

TEST_F(LibbsonAllocationCount, DeeperLevelsAreAllocatedOnceAndReused) {
  bson::Builder builder;
  constexpr int kDepth = static_cast<int>(bson::Builder::kInlineDepth) + 12;
  auto first = allocations_of([&] { nest(builder, 1, kDepth); });
  // The 12 levels past the inline ones, plus the vector holding them (it may grow a few times).
  EXPECT_GE(first.first, 12u);
  EXPECT_LE(first.first, 12u + 8u);
  auto again = allocations_of([&] { nest(builder, 1'000, kDepth); });
  EXPECT_EQ(again.first, 0u) << "the deep levels are reused, not allocated per nested document";
  EXPECT_LT(again.second, 40u);
  const bson::Document built = builder.build();
  int x = -1;
  EXPECT_EQ(depth_of(built["999"], x), kDepth);
  EXPECT_EQ(x, 999);
}

}  // namespace
}  // namespace mongoslice
