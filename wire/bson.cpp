#include "wire/bson.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <stdexcept>

#include "wire/bson_validate.hpp"
#include "wire/error.hpp"
#include "wire/extended_json.hpp"

namespace mongoslice::bson {
namespace {

// A key for an error message, quoted with ': the whole key shows, NULs and UTF-8 included.
std::string escaped(std::string_view key) {
  return escaped_for_message(key, '\'');
}

// The empty document: length 5, then the terminating zero.
constexpr std::uint8_t kEmptyDocument[5] = {5, 0, 0, 0, 0};

int key_length(std::string_view key) {
  return static_cast<int>(key.size());
}

// The shortest text that reads back as `value`: "1e+300", "nan", "-inf".
std::string double_text(double value) {
  char text[32];
  auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  return ec == std::errc() ? std::string(text, end) : std::string("?");
}

// `value` truncated toward zero, if that fits in Int. A static_cast of NaN, of an infinity or
// of a value whose truncation does not fit is undefined behaviour, so those give nothing.
template <typename Int>
std::optional<Int> truncate_to(double value) noexcept {
  // -2^(n-1) and 2^(n-1) are powers of two, so both bounds are exact doubles.
  constexpr double kMin = static_cast<double>(std::numeric_limits<Int>::min());
  constexpr double kEnd = -kMin;
  const double truncated = std::trunc(value);
  if (!(truncated >= kMin && truncated < kEnd)) return std::nullopt;  // NaN fails both
  return static_cast<Int>(truncated);
}

bool holds_nul(std::string_view text) noexcept {
  return text.find('\0') != std::string_view::npos;
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

// A BSON string value: int32 length (text + NUL), the text, NUL.
void put_string(std::vector<std::uint8_t>& out, std::string_view text) {
  put_u32(out, static_cast<std::uint32_t>(text.size() + 1));
  out.insert(out.end(), text.begin(), text.end());
  out.push_back(0);
}

// Values whose encoding must stay below INT32_MAX bytes, with room for the rest of an element.
constexpr std::size_t kMaxValueSize = std::numeric_limits<std::int32_t>::max() - 64;

}  // namespace

std::string_view type_name(Type type) noexcept {
  switch (type) {
    case Type::kDouble:
      return "double";
    case Type::kString:
      return "string";
    case Type::kDocument:
      return "document";
    case Type::kArray:
      return "array";
    case Type::kBinary:
      return "binary";
    case Type::kUndefined:
      return "undefined";
    case Type::kOid:
      return "objectId";
    case Type::kBool:
      return "bool";
    case Type::kDateTime:
      return "date";
    case Type::kNull:
      return "null";
    case Type::kRegex:
      return "regex";
    case Type::kDbPointer:
      return "dbPointer";
    case Type::kCode:
      return "javascript";
    case Type::kSymbol:
      return "symbol";
    case Type::kCodeWithScope:
      return "javascriptWithScope";
    case Type::kInt32:
      return "int";
    case Type::kTimestamp:
      return "timestamp";
    case Type::kInt64:
      return "long";
    case Type::kDecimal128:
      return "decimal";
    case Type::kMaxKey:
      return "maxKey";
    case Type::kMinKey:
      return "minKey";
  }
  return "unknown";
}

// validate() lives in bson_validate.cpp: our own single-pass validator.

// ---- Element ---------------------------------------------------------------------------------

std::string_view Element::key() const noexcept {
  return {bson_iter_key(&iter_), bson_iter_key_len(&iter_)};
}

bool Element::is_number() const noexcept {
  auto t = type();
  return t == Type::kInt32 || t == Type::kInt64 || t == Type::kDouble;
}

void Element::throw_mismatch(Type wanted) const {
  throw Error(errc::bson_type_mismatch, "field '" + escaped(key()) + "' is " +
                                            std::string(type_name(type())) + ", expected " +
                                            std::string(type_name(wanted)));
}

void Element::throw_out_of_range(const std::string& value, Type wanted) const {
  throw Error(errc::bson_type_mismatch,
              "field '" + escaped(key()) + "' is " + std::string(type_name(type())) + " " + value +
                  ", out of the range of " + std::string(type_name(wanted)));
}

double Element::get_double() const {
  if (type() != Type::kDouble) throw_mismatch(Type::kDouble);
  return bson_iter_double(&iter_);
}

std::int32_t Element::get_int32() const {
  if (type() != Type::kInt32) throw_mismatch(Type::kInt32);
  return bson_iter_int32(&iter_);
}

std::int64_t Element::get_int64() const {
  if (type() != Type::kInt64) throw_mismatch(Type::kInt64);
  return bson_iter_int64(&iter_);
}

bool Element::get_bool() const {
  if (type() != Type::kBool) throw_mismatch(Type::kBool);
  return bson_iter_bool(&iter_);
}

std::string_view Element::get_string() const {
  if (type() != Type::kString) throw_mismatch(Type::kString);
  std::uint32_t length = 0;
  const char* text = bson_iter_utf8(&iter_, &length);
  return {text, length};
}

View Element::get_document() const {
  if (type() != Type::kDocument) throw_mismatch(Type::kDocument);
  std::uint32_t length = 0;
  const std::uint8_t* data = nullptr;
  bson_iter_document(&iter_, &length, &data);
  return View(data, length);
}

View Element::get_array() const {
  if (type() != Type::kArray) throw_mismatch(Type::kArray);
  std::uint32_t length = 0;
  const std::uint8_t* data = nullptr;
  bson_iter_array(&iter_, &length, &data);
  return View(data, length);
}

const bson_oid_t& Element::get_oid() const {
  if (type() != Type::kOid) throw_mismatch(Type::kOid);
  return *bson_iter_oid(&iter_);
}

std::chrono::system_clock::time_point Element::get_date_time() const {
  using Clock = std::chrono::system_clock;
  using std::chrono::milliseconds;
  if (type() != Type::kDateTime) throw_mismatch(Type::kDateTime);
  // The clock's ticks are finer than milliseconds, so converting a far date would overflow.
  constexpr auto kMin = std::chrono::duration_cast<milliseconds>(Clock::duration::min()).count();
  constexpr auto kMax = std::chrono::duration_cast<milliseconds>(Clock::duration::max()).count();
  const std::int64_t ms = bson_iter_date_time(&iter_);
  if (ms < kMin || ms > kMax) {
    throw Error(errc::bson_type_mismatch, "field '" + escaped(key()) + "' is date " +
                                              std::to_string(ms) +
                                              " ms since the epoch, out of the range of "
                                              "std::chrono::system_clock");
  }
  return Clock::time_point(milliseconds(ms));
}

Binary Element::get_binary() const {
  if (type() != Type::kBinary) throw_mismatch(Type::kBinary);
  bson_subtype_t subtype = BSON_SUBTYPE_BINARY;
  std::uint32_t length = 0;
  const std::uint8_t* data = nullptr;
  bson_iter_binary(&iter_, &subtype, &length, &data);
  return {static_cast<std::uint8_t>(subtype), {data, length}};
}

Regex Element::get_regex() const {
  if (type() != Type::kRegex) throw_mismatch(Type::kRegex);
  const char* options = nullptr;
  const char* pattern = bson_iter_regex(&iter_, &options);
  return {pattern, options};
}

std::string_view Element::get_code() const {
  if (type() != Type::kCode) throw_mismatch(Type::kCode);
  std::uint32_t length = 0;
  const char* code = bson_iter_code(&iter_, &length);
  return {code, length};
}

CodeWithScope Element::get_code_with_scope() const {
  if (type() != Type::kCodeWithScope) throw_mismatch(Type::kCodeWithScope);
  std::uint32_t code_length = 0;
  std::uint32_t scope_length = 0;
  const std::uint8_t* scope = nullptr;
  const char* code = bson_iter_codewscope(&iter_, &code_length, &scope_length, &scope);
  return {{code, code_length}, View(scope, scope_length)};
}

Timestamp Element::get_timestamp() const {
  if (type() != Type::kTimestamp) throw_mismatch(Type::kTimestamp);
  Timestamp out;
  bson_iter_timestamp(&iter_, &out.t, &out.i);
  return out;
}

bson_decimal128_t Element::get_decimal128() const {
  if (type() != Type::kDecimal128) throw_mismatch(Type::kDecimal128);
  bson_decimal128_t value{};
  bson_iter_decimal128(&iter_, &value);
  return value;
}

std::int64_t Element::as_int64() const {
  switch (type()) {
    case Type::kInt32:
      return bson_iter_int32(&iter_);
    case Type::kInt64:
      return bson_iter_int64(&iter_);
    case Type::kDouble: {
      const double value = bson_iter_double(&iter_);
      if (auto converted = truncate_to<std::int64_t>(value)) return *converted;
      throw_out_of_range(double_text(value), Type::kInt64);
    }
    default:
      throw_mismatch(Type::kInt64);
  }
}

std::int32_t Element::as_int32() const {
  switch (type()) {
    case Type::kInt32:
      return bson_iter_int32(&iter_);
    case Type::kInt64: {
      const std::int64_t value = bson_iter_int64(&iter_);
      if (value >= std::numeric_limits<std::int32_t>::min() &&
          value <= std::numeric_limits<std::int32_t>::max()) {
        return static_cast<std::int32_t>(value);
      }
      throw_out_of_range(std::to_string(value), Type::kInt32);
    }
    case Type::kDouble: {
      const double value = bson_iter_double(&iter_);
      if (auto converted = truncate_to<std::int32_t>(value)) return *converted;
      throw_out_of_range(double_text(value), Type::kInt32);
    }
    default:
      throw_mismatch(Type::kInt32);
  }
}

double Element::as_double() const {
  switch (type()) {
    case Type::kInt32:
      return bson_iter_int32(&iter_);
    case Type::kInt64:
      return static_cast<double>(bson_iter_int64(&iter_));
    case Type::kDouble:
      return bson_iter_double(&iter_);
    default:
      throw_mismatch(Type::kDouble);
  }
}

bool Element::as_bool() const noexcept {
  switch (type()) {
    case Type::kBool:
      return bson_iter_bool(&iter_);
    case Type::kInt32:
      return bson_iter_int32(&iter_) != 0;
    case Type::kInt64:
      return bson_iter_int64(&iter_) != 0;
    case Type::kDouble:
      return bson_iter_double(&iter_) != 0.0;
    default:
      return false;
  }
}

// ---- View ------------------------------------------------------------------------------------

View::View() noexcept : data_(kEmptyDocument), size_(sizeof kEmptyDocument) {
}

View::iterator& View::iterator::operator++() noexcept {
  done_ = !bson_iter_next(&iter_);
  return *this;
}

View::iterator View::begin() const noexcept {
  iterator it;
  if (bson_iter_init_from_data(&it.iter_, data_, size_)) it.done_ = !bson_iter_next(&it.iter_);
  return it;
}

std::optional<Element> View::find(std::string_view key) const noexcept {
  bson_iter_t iter;
  if (!bson_iter_init_from_data(&iter, data_, size_)) return std::nullopt;
  if (!bson_iter_find_w_len(&iter, key.data(), key_length(key))) return std::nullopt;
  return Element(iter);
}

Element View::operator[](std::string_view key) const {
  if (auto element = find(key)) return *element;
  throw Error(errc::bson_key_missing, "field '" + escaped(key) + "' is missing");
}

std::string View::to_json() const {
  // For logs and error messages too, so bytes libbson refuses are named, not thrown.
  bson_t doc;
  if (!bson_init_static(&doc, data_, size_)) return "<invalid BSON>";
  std::size_t length = 0;
  char* json = bson_as_relaxed_extended_json(&doc, &length);
  if (json == nullptr) return "<invalid BSON>";
  std::string text(json, length);
  bson_free(json);
  return text;
}

bson_t View::as_bson_t() const {
  bson_t doc;
  // On failure libbson leaves `doc` uninitialised: it must not reach any libbson function.
  if (!bson_init_static(&doc, data_, size_)) {
    throw Error(errc::invalid_bson, "a view of " + std::to_string(size_) +
                                        " bytes is not a BSON document (its length prefix, "
                                        "size or terminating zero disagree)");
  }
  return doc;
}

bool operator==(const View& a, const View& b) noexcept {
  return a.size_ == b.size_ && std::memcmp(a.data_, b.data_, a.size_) == 0;
}

// ---- Document --------------------------------------------------------------------------------

Document::Document() : bytes_(std::begin(kEmptyDocument), std::end(kEmptyDocument)) {
}

Document Document::from_bytes(std::span<const std::uint8_t> bytes) {
  ValidationError error;
  if (auto ec = validate(bytes, error)) {
    throw Error(ec, "document of " + std::to_string(bytes.size()) +
                        " bytes is not valid BSON: " + error.describe());
  }
  return Document(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
}

Document Document::from_json(std::string_view json) {
  return parse_extended_json(json);
}

// ---- Builder ---------------------------------------------------------------------------------

Builder::Builder() {
  bson_init(&root_);
}

Builder::~Builder() {
  // Children are destroyed innermost first; libbson requires each to end before its parent.
  while (depth_ > 0) end_level();
  bson_destroy(&root_);
}

Builder::Level& Builder::level(std::size_t depth) {
  if (depth <= kInlineDepth) return inline_levels_[depth - 1];
  const std::size_t deep = depth - kInlineDepth;  // 1-based among deep_levels_
  while (deep_levels_.size() < deep) deep_levels_.push_back(std::make_unique<Level>());
  return *deep_levels_[deep - 1];
}

bson_t* Builder::top() noexcept {
  return depth_ == 0 ? &root_ : &innermost().doc;
}

void Builder::end_level() {
  Level& closing = innermost();
  --depth_;
  if (closing.is_array) {
    bson_append_array_end(top(), &closing.doc);
  } else {
    bson_append_document_end(top(), &closing.doc);
  }
}

std::string_view Builder::next_index_key() {
  if (depth_ == 0 || !innermost().is_array) {
    throw std::logic_error("bson::Builder::append_value outside an open array");
  }
  const char* key = nullptr;
  std::size_t length =
      bson_uint32_to_string(innermost().next_index++, &key, index_key_, sizeof index_key_);
  return {key, length};
}

void Builder::check(bool appended, std::string_view key) {
  // libbson refuses a key holding a NUL, and a document that would exceed INT32_MAX bytes.
  if (appended) return;
  throw Error(errc::invalid_argument,
              "cannot append '" + escaped(key) + "': " +
                  (holds_nul(key) ? "a key cannot hold a NUL byte"
                                  : "the value is refused or the document would exceed "
                                    "INT32_MAX bytes"));
}

void Builder::append_raw(std::string_view key, Type type, std::span<const std::uint8_t> value) {
  if (holds_nul(key) || value.size() > kMaxValueSize - key.size()) check(false, key);
  // A document holding just this element, concatenated to the one being built.
  std::vector<std::uint8_t> element;
  element.reserve(4 + 1 + key.size() + 1 + value.size() + 1);
  put_u32(element, 0);
  element.push_back(static_cast<std::uint8_t>(type));
  element.insert(element.end(), key.begin(), key.end());
  element.push_back(0);
  element.insert(element.end(), value.begin(), value.end());
  element.push_back(0);
  const auto total = static_cast<std::uint32_t>(element.size());
  for (int i = 0; i < 4; ++i) element[i] = static_cast<std::uint8_t>(total >> (8 * i));
  bson_t single;
  check(bson_init_static(&single, element.data(), element.size()) && bson_concat(top(), &single),
        key);
}

Builder& Builder::append(std::string_view key, std::int32_t value) {
  check(bson_append_int32(top(), key.data(), key_length(key), value), key);
  return *this;
}

Builder& Builder::append(std::string_view key, std::int64_t value) {
  check(bson_append_int64(top(), key.data(), key_length(key), value), key);
  return *this;
}

Builder& Builder::append(std::string_view key, double value) {
  check(bson_append_double(top(), key.data(), key_length(key), value), key);
  return *this;
}

Builder& Builder::append(std::string_view key, bool value) {
  check(bson_append_bool(top(), key.data(), key_length(key), value), key);
  return *this;
}

Builder& Builder::append(std::string_view key, std::string_view value) {
  check(bson_append_utf8(top(), key.data(), key_length(key), value.data(),
                         static_cast<int>(value.size())),
        key);
  return *this;
}

Builder& Builder::append(std::string_view key, View document) {
  bson_t child = document.as_bson_t();
  check(bson_append_document(top(), key.data(), key_length(key), &child), key);
  return *this;
}

Builder& Builder::append_array(std::string_view key, View array) {
  bson_t child = array.as_bson_t();
  check(bson_append_array(top(), key.data(), key_length(key), &child), key);
  return *this;
}

Builder& Builder::append(std::string_view key, std::nullptr_t) {
  check(bson_append_null(top(), key.data(), key_length(key)), key);
  return *this;
}

Builder& Builder::append(std::string_view key, const bson_oid_t& oid) {
  check(bson_append_oid(top(), key.data(), key_length(key), &oid), key);
  return *this;
}

Builder& Builder::append_date_time(std::string_view key,
                                   std::chrono::system_clock::time_point when) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch());
  check(bson_append_date_time(top(), key.data(), key_length(key), ms.count()), key);
  return *this;
}

Builder& Builder::append_binary(std::string_view key, std::uint8_t subtype,
                                std::span<const std::uint8_t> bytes) {
  if (bytes.size() > kMaxValueSize) check(false, key);
  check(bson_append_binary(top(), key.data(), key_length(key), static_cast<bson_subtype_t>(subtype),
                           bytes.data(), static_cast<std::uint32_t>(bytes.size())),
        key);
  return *this;
}

Builder& Builder::append_regex(std::string_view key, std::string_view pattern,
                               std::string_view options) {
  if (holds_nul(pattern) || holds_nul(options)) {
    throw Error(errc::invalid_argument, "cannot append '" + escaped(key) +
                                            "': a regex pattern or its options cannot hold a "
                                            "NUL byte (pattern '" +
                                            escaped(pattern) + "', options '" + escaped(options) +
                                            "')");
  }
  if (pattern.size() > kMaxValueSize) check(false, key);
  // libbson reads the options as a C string, so they are copied to get their terminator.
  const std::string options_text(options);
  check(bson_append_regex_w_len(top(), key.data(), key_length(key), pattern.data(),
                                static_cast<int>(pattern.size()), options_text.c_str()),
        key);
  return *this;
}

Builder& Builder::append_code(std::string_view key, std::string_view code) {
  if (code.size() > kMaxValueSize) check(false, key);
  std::vector<std::uint8_t> value;
  value.reserve(4 + code.size() + 1);
  put_string(value, code);
  append_raw(key, Type::kCode, value);
  return *this;
}

Builder& Builder::append_code_with_scope(std::string_view key, std::string_view code, View scope) {
  (void)scope.as_bson_t();  // throws for bytes that are not a document
  if (code.size() > kMaxValueSize - scope.size()) check(false, key);
  // int32 total, the code as a string, the scope document.
  std::vector<std::uint8_t> value;
  value.reserve(4 + 4 + code.size() + 1 + scope.size());
  put_u32(value, static_cast<std::uint32_t>(4 + 4 + code.size() + 1 + scope.size()));
  put_string(value, code);
  value.insert(value.end(), scope.data(), scope.data() + scope.size());
  append_raw(key, Type::kCodeWithScope, value);
  return *this;
}

Builder& Builder::append_timestamp(std::string_view key, Timestamp timestamp) {
  check(bson_append_timestamp(top(), key.data(), key_length(key), timestamp.t, timestamp.i), key);
  return *this;
}

Builder& Builder::append_decimal128(std::string_view key, const bson_decimal128_t& value) {
  check(bson_append_decimal128(top(), key.data(), key_length(key), &value), key);
  return *this;
}

Builder& Builder::append_min_key(std::string_view key) {
  check(bson_append_minkey(top(), key.data(), key_length(key)), key);
  return *this;
}

Builder& Builder::append_max_key(std::string_view key) {
  check(bson_append_maxkey(top(), key.data(), key_length(key)), key);
  return *this;
}

Builder& Builder::append(std::string_view key, const Element& element) {
  check(bson_append_iter(top(), key.data(), key_length(key), &element.iter()), key);
  return *this;
}

Builder& Builder::concat(View document) {
  bson_t source = document.as_bson_t();
  check(bson_concat(top(), &source), "<concat>");
  return *this;
}

Builder& Builder::open(std::string_view key, bool is_array) {
  Level& child = level(depth_ + 1);  // may allocate (past kInlineDepth) before anything changes
  child.next_index = 0;
  child.is_array = is_array;
  bson_t* parent = top();
  const bool begun =
      is_array ? bson_append_array_begin(parent, key.data(), key_length(key), &child.doc)
               : bson_append_document_begin(parent, key.data(), key_length(key), &child.doc);
  check(begun, key);
  ++depth_;
  return *this;
}

Builder& Builder::open_document(std::string_view key) {
  return open(key, false);
}

Builder& Builder::open_array(std::string_view key) {
  return open(key, true);
}

Builder& Builder::close() {
  if (depth_ == 0) throw std::logic_error("bson::Builder::close with nothing open");
  end_level();
  return *this;
}

Document Builder::build() {
  if (depth_ != 0) throw std::logic_error("bson::Builder::build with a nested document open");
  const std::uint8_t* data = bson_get_data(&root_);
  Document result(std::vector<std::uint8_t>(data, data + root_.len));
  bson_reinit(&root_);
  return result;
}

}  // namespace mongoslice::bson
