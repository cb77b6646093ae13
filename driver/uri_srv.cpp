#include "driver/uri_srv.hpp"

#include <optional>
#include <string>
#include <vector>

#include "driver/uri_text.hpp"

namespace mongoslice {
namespace {

// The labels of a host name, lower-cased, one trailing dot dropped; none if a label is empty.
std::optional<std::vector<std::string>> labels_of(std::string_view name) {
  if (name.ends_with('.')) name.remove_suffix(1);
  if (name.empty()) return std::nullopt;
  std::vector<std::string> labels;
  while (true) {
    std::size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    if (label.empty()) return std::nullopt;
    labels.push_back(uri_detail::ascii_lower(label));
    if (dot == std::string_view::npos) return labels;
    name = name.substr(dot + 1);
  }
}

bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

}  // namespace

bool srv_target_matches(std::string_view srv_host, std::string_view target) {
  auto host = labels_of(srv_host);
  auto found = labels_of(target);
  if (!host || !found) return false;
  // {domainname}: the host without its first label, when it has three or more.
  std::size_t skip = host->size() >= 3 ? 1 : 0;
  std::size_t domain = host->size() - skip;
  if (found->size() <= domain) return false;  // at least one label more than the domain
  for (std::size_t i = 0; i < domain; ++i) {
    if ((*found)[found->size() - domain + i] != (*host)[skip + i]) return false;
  }
  return true;
}

bool valid_srv_service_name(std::string_view name) {
  if (name.empty() || name.size() > 62) return false;
  if (name.front() == '-' || name.back() == '-') return false;
  bool letter = false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (is_letter(c)) {
      letter = true;
    } else if (c == '-') {
      if (name[i - 1] == '-') return false;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return letter;
}

}  // namespace mongoslice
