// Replaces the global operator new and delete with versions that count, on the calling thread
// only, the allocations made while counting is switched on (allocations_during). C++ allows one
// replacement per program, so include this header in exactly one .cpp of a test binary; every
// other test of that binary is unaffected apart from a thread_local check per allocation.

#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace test_allocations {

inline thread_local bool t_counting = false;
inline thread_local std::size_t t_allocations = 0;
inline thread_local std::size_t t_deallocations = 0;

inline void counted_free(void* p) noexcept {
  if (t_counting && p != nullptr) ++t_deallocations;
  std::free(p);
}

inline void* counted_alloc(std::size_t size, std::size_t alignment = 0) {
  if (t_counting) ++t_allocations;
  if (size == 0) size = 1;
  void* p = alignment > alignof(std::max_align_t)
                ? std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment)
                : std::malloc(size);
  return p;
}

// Counts the allocations made by `body` on this thread.
template <typename F>
std::size_t allocations_during(F&& body) {
  t_allocations = 0;
  t_counting = true;
  body();
  t_counting = false;
  return t_allocations;
}

// Counts the deallocations made by `body` on this thread.
template <typename F>
std::size_t deallocations_during(F&& body) {
  t_deallocations = 0;
  t_counting = true;
  body();
  t_counting = false;
  return t_deallocations;
}

}  // namespace test_allocations

using test_allocations::allocations_during;
using test_allocations::deallocations_during;

void* operator new(std::size_t size) {
  if (void* p = test_allocations::counted_alloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = test_allocations::counted_alloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t align) {
  if (void* p = test_allocations::counted_alloc(size, static_cast<std::size_t>(align))) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t align) {
  if (void* p = test_allocations::counted_alloc(size, static_cast<std::size_t>(align))) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return test_allocations::counted_alloc(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return test_allocations::counted_alloc(size);
}
void operator delete(void* p) noexcept {
  test_allocations::counted_free(p);
}
void operator delete[](void* p) noexcept {
  test_allocations::counted_free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  test_allocations::counted_free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  test_allocations::counted_free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  test_allocations::counted_free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  test_allocations::counted_free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  test_allocations::counted_free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  test_allocations::counted_free(p);
}
