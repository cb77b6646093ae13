#pragma once
// Internal to driver/: an operation's comment option as the {comment: <value>} document the
// cursor and ops layers take it in (a BSON element of any type, so a string and a document
// comment travel alike).

#include <optional>
#include <string>
#include <variant>

#include "driver/write_options.hpp"  // Comment
#include "wire/bson.hpp"

namespace mongoslice {

inline std::optional<bson::Document> comment_holder(const std::optional<Comment>& comment) {
  if (!comment) return std::nullopt;
  bson::Builder builder;
  if (const auto* text = std::get_if<std::string>(&*comment)) {
    builder.append("comment", *text);
  } else {
    builder.append("comment", std::get<bson::Document>(*comment).view());
  }
  return builder.build();
}

}  // namespace mongoslice
