#pragma once
// A small RAII layer over libbson, so that the driver, its tests and its users read and write
// BSON in C++ rather than C.
//
//   bson::View     non-owning, read-only view of a validated document (cheap to copy)
//   bson::Element  one field of a view: key, type and typed accessors
//   bson::Document owning bytes of one document (copyable, movable)
//   bson::Builder  appends fields, nested documents and arrays, then yields a Document
//
// Thread-safety: a View or Document may be read from many threads at once; a Builder is not
// shared.

#include <bson/bson.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace mongoslice::bson {

// BSON element types (the byte that precedes each element's key).
enum class Type : std::uint8_t {
  kDouble = 0x01,
  kString = 0x02,
  kDocument = 0x03,
  kArray = 0x04,
  kBinary = 0x05,
  kUndefined = 0x06,
  kOid = 0x07,
  kBool = 0x08,
  kDateTime = 0x09,
  kNull = 0x0A,
  kRegex = 0x0B,
  kDbPointer = 0x0C,
  kCode = 0x0D,
  kSymbol = 0x0E,
  kCodeWithScope = 0x0F,
  kInt32 = 0x10,
  kTimestamp = 0x11,
  kInt64 = 0x12,
  kDecimal128 = 0x13,
  kMaxKey = 0x7F,
  kMinKey = 0xFF,
};

std::string_view type_name(Type type) noexcept;

// Checks that `bytes` hold exactly one well-formed BSON document (lengths, terminators, element
// types, nested documents, UTF-8 of keys and strings). Returns errc::invalid_bson otherwise.
std::error_code validate(std::span<const std::uint8_t> bytes) noexcept;

class View;
struct CodeWithScope;

// The value of a binary element: its subtype byte and its bytes (for the old subtype 2, the
// bytes after its inner length).
struct Binary {
  std::uint8_t subtype = 0;
  std::span<const std::uint8_t> bytes;
};

// The value of a regular-expression element: two NUL-terminated strings.
struct Regex {
  std::string_view pattern;
  std::string_view options;
};

// The value of a timestamp element: seconds since the epoch (t) and an ordinal (i).
struct Timestamp {
  std::uint32_t t = 0;
  std::uint32_t i = 0;
  friend bool operator==(const Timestamp&, const Timestamp&) = default;
};

// One field of a document. Valid while the bytes it points into live.
class Element {
 public:
  explicit Element(const bson_iter_t& iter) noexcept : iter_(iter) {}

  std::string_view key() const noexcept;
  Type type() const noexcept { return static_cast<Type>(bson_iter_type(&iter_)); }
  bool is_number() const noexcept;

  // Typed accessors. Each throws mongoslice::Error (errc::bson_type_mismatch, naming the key
  // and both types) when the element has another type. get_date_time throws it too for a date
  // that system_clock::time_point cannot hold (its ticks are finer than milliseconds: with
  // nanoseconds, about 292 years either side of 1970).
  double get_double() const;
  std::int32_t get_int32() const;
  std::int64_t get_int64() const;
  bool get_bool() const;
  std::string_view get_string() const;
  View get_document() const;
  View get_array() const;
  const bson_oid_t& get_oid() const;
  std::chrono::system_clock::time_point get_date_time() const;
  Binary get_binary() const;
  Regex get_regex() const;
  std::string_view get_code() const;  // JavaScript code (may hold NUL bytes)
  CodeWithScope get_code_with_scope() const;
  Timestamp get_timestamp() const;
  bson_decimal128_t get_decimal128() const;

  // Any of int32, int64 and double, converted (a double truncated toward zero); throws
  // errc::bson_type_mismatch for other types, and for a value whose conversion does not fit
  // (NaN, an infinity, out of range), naming the key and the value.
  std::int64_t as_int64() const;
  std::int32_t as_int32() const;
  double as_double() const;
  // The server's "truthy" rule for flags such as ok: numbers != 0, true; everything else false.
  bool as_bool() const noexcept;

  const bson_iter_t& iter() const noexcept { return iter_; }

 private:
  [[noreturn]] void throw_mismatch(Type wanted) const;
  [[noreturn]] void throw_out_of_range(const std::string& value, Type wanted) const;
  bson_iter_t iter_;
};

// A read-only view of one document. It never owns; the bytes must outlive it. Construct it only
// over validated bytes (the decoder and Document guarantee this).
class View {
 public:
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Element;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = Element;

    iterator() noexcept = default;
    Element operator*() const noexcept { return Element(iter_); }
    iterator& operator++() noexcept;
    iterator operator++(int) noexcept {
      iterator old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.done_ == b.done_ && (a.done_ || a.iter_.off == b.iter_.off);
    }

   private:
    friend class View;
    bson_iter_t iter_{};
    bool done_ = true;
  };

  // The empty document {}.
  View() noexcept;
  View(const std::uint8_t* data, std::size_t size) noexcept : data_(data), size_(size) {}
  // Views a libbson document; `doc` must outlive the view.
  static View of(const bson_t* doc) noexcept { return View(bson_get_data(doc), doc->len); }

  const std::uint8_t* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::span<const std::uint8_t> bytes() const noexcept { return {data_, size_}; }
  bool empty() const noexcept { return size_ <= 5; }

  iterator begin() const noexcept;
  iterator end() const noexcept { return {}; }

  // The first field named `key`, if any. Dotted keys are not expanded.
  std::optional<Element> find(std::string_view key) const noexcept;
  bool contains(std::string_view key) const noexcept { return find(key).has_value(); }
  // The field named `key`; throws mongoslice::Error (errc::bson_key_missing) when absent.
  Element operator[](std::string_view key) const;

  // Relaxed extended JSON, for logs, messages and tests; "<invalid BSON>" for bytes libbson
  // does not take.
  std::string to_json() const;

  // A libbson bson_t over these bytes (read-only, no copy) for libbson's own functions. Throws
  // mongoslice::Error (errc::invalid_bson) when libbson refuses the bytes: fewer than 5, a
  // length prefix other than size(), or a last byte that is not 0. Validated bytes pass.
  bson_t as_bson_t() const;

  friend bool operator==(const View& a, const View& b) noexcept;

 private:
  const std::uint8_t* data_;
  std::size_t size_;
};

// The value of a code-with-scope element: JavaScript code and the document of its variables.
struct CodeWithScope {
  std::string_view code;
  View scope;
};

// An owning document. Always holds valid BSON.
class Document {
 public:
  Document();  // {}
  // Copies and validates; throws mongoslice::Error (errc::invalid_bson) on malformed bytes.
  static Document from_bytes(std::span<const std::uint8_t> bytes);
  // Copies a view (already valid).
  explicit Document(View view) : bytes_(view.data(), view.data() + view.size()) {}
  // Parses extended JSON strictly (see parse_extended_json in wire/extended_json.hpp); throws
  // mongoslice::Error (errc::invalid_bson) naming the problem and where.
  static Document from_json(std::string_view json);

  View view() const noexcept { return View(bytes_.data(), bytes_.size()); }
  operator View() const noexcept { return view(); }  // NOLINT: a document is usable as a view
  const std::uint8_t* data() const noexcept { return bytes_.data(); }
  std::size_t size() const noexcept { return bytes_.size(); }
  std::optional<Element> find(std::string_view key) const noexcept { return view().find(key); }
  Element operator[](std::string_view key) const { return view()[key]; }
  std::string to_json() const { return view().to_json(); }
  View::iterator begin() const noexcept { return view().begin(); }
  View::iterator end() const noexcept { return view().end(); }

  friend bool operator==(const Document& a, const Document& b) noexcept {
    return a.bytes_ == b.bytes_;
  }

 private:
  friend class Builder;
  explicit Document(std::vector<std::uint8_t> bytes) noexcept : bytes_(std::move(bytes)) {}
  std::vector<std::uint8_t> bytes_;
};

// Builds a document field by field:
//
//   auto cmd = bson::Builder{}
//                  .append("find", "users")
//                  .open_document("filter").append("age", 42).close()
//                  .append("batchSize", 100)
//                  .build();
//
// Inside open_array(), append_value() adds elements with the keys "0", "1", ... Throws
// std::logic_error when nesting is misused (close() with nothing open, build() with a nested
// document still open). Appending or concatenating a View that libbson refuses (see
// View::as_bson_t) throws mongoslice::Error (errc::invalid_bson) and appends nothing. A key, a
// regex pattern or regex options holding a NUL byte (BSON ends them at a NUL), or a document
// that would grow past INT32_MAX bytes, throws mongoslice::Error (errc::invalid_argument,
// quoting the key with its bytes escaped) and appends nothing. String and code values may hold
// NUL bytes.
class Builder {
 public:
  // Nesting this deep or less uses levels held in the builder itself: opening a nested document
  // or array allocates nothing of the builder's own (libbson grows the one buffer it writes
  // into). A level deeper than this is allocated the first time the builder reaches it and then
  // reused, so no nesting costs an allocation per nested document.
  static constexpr std::size_t kInlineDepth = 8;

  Builder();
  ~Builder();
  Builder(Builder&&) = delete;  // libbson's nested builders point into the parent
  Builder& operator=(Builder&&) = delete;

  Builder& append(std::string_view key, std::int32_t value);
  Builder& append(std::string_view key, std::int64_t value);
  Builder& append(std::string_view key, long long value) {
    return append(key, static_cast<std::int64_t>(value));
  }
  Builder& append(std::string_view key, double value);
  Builder& append(std::string_view key, bool value);
  Builder& append(std::string_view key, std::string_view value);
  Builder& append(std::string_view key, const char* value) {
    return append(key, std::string_view(value));
  }
  Builder& append(std::string_view key, const std::string& value) {
    return append(key, std::string_view(value));
  }
  Builder& append(std::string_view key, View document);
  Builder& append(std::string_view key, const Document& document) {
    return append(key, document.view());
  }
  Builder& append(std::string_view key, std::nullptr_t);
  Builder& append(std::string_view key, const bson_oid_t& oid);
  Builder& append_array(std::string_view key, View array);
  Builder& append_date_time(std::string_view key, std::chrono::system_clock::time_point when);
  Builder& append_binary(std::string_view key, std::uint8_t subtype,
                         std::span<const std::uint8_t> bytes);
  // libbson writes the options sorted ("xi" is stored as "ix"), as the BSON spec asks.
  Builder& append_regex(std::string_view key, std::string_view pattern,
                        std::string_view options = {});
  Builder& append_code(std::string_view key, std::string_view code);
  Builder& append_code_with_scope(std::string_view key, std::string_view code, View scope);
  Builder& append_timestamp(std::string_view key, Timestamp timestamp);
  Builder& append_decimal128(std::string_view key, const bson_decimal128_t& value);
  Builder& append_min_key(std::string_view key);
  Builder& append_max_key(std::string_view key);
  // Copies one element (any type) under a new key.
  Builder& append(std::string_view key, const Element& element);
  // Copies every field of `document` into the document being built.
  Builder& concat(View document);

  Builder& open_document(std::string_view key);
  Builder& open_array(std::string_view key);
  Builder& close();

  // In an open array: the next element, keyed by its index.
  template <typename T>
  Builder& append_value(T&& value) {
    return append(next_index_key(), std::forward<T>(value));
  }

  // The document built so far (no nested document may be open). The builder is left empty.
  Document build();

 private:
  struct Level {
    bson_t doc;
    std::uint32_t next_index = 0;
    bool is_array = false;
  };
  bson_t* top() noexcept;
  Level& level(std::size_t depth);  // depth counts from 1
  Level& innermost() noexcept { return level(depth_); }
  Builder& open(std::string_view key, bool is_array);
  std::string_view next_index_key();
  void check(bool appended, std::string_view key);
  // Appends one element written byte by byte (type, key, value), for values libbson can only
  // take as C strings (code, code with scope), so that a NUL inside them is kept.
  void append_raw(std::string_view key, Type type, std::span<const std::uint8_t> value);
  void end_level();

  bson_t root_;
  // libbson's child documents point into their parents, so a level never moves while open.
  Level inline_levels_[kInlineDepth];
  // Levels past kInlineDepth, allocated the first time this builder nests that deep and then
  // reused for the builder's lifetime (never freed before it).
  std::vector<std::unique_ptr<Level>> deep_levels_;
  std::size_t depth_ = 0;  // levels open
  char index_key_[16];
};

}  // namespace mongoslice::bson
