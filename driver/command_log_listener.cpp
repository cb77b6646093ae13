#include "driver/command_log_listener.hpp"

#include <cstdio>

#include "wire/log.hpp"

namespace mongoslice {
namespace {

void append_ids(std::string& out, bson::View array) {
  out += '[';
  bool first = true;
  for (bson::Element element : array) {
    if (!first) out += ", ";
    first = false;
    out += element.is_number() ? std::to_string(element.as_int64()) : std::string("?");
  }
  out += ']';
}

void append_id_list(std::string& out, std::string_view key, bson::View doc) {
  auto element = doc.find(key);
  if (!element || element->type() != bson::Type::kArray) return;
  out += ' ';
  out += key;
  out += '=';
  append_ids(out, element->get_array());
}

std::string head(std::string_view what, std::string_view name, std::int32_t id,
                 const HostAndPort& server) {
  std::string out(what);
  out += ' ';
  out += name;
  out += " id=" + std::to_string(id) + " server=" + server.to_string();
  return out;
}

void append_duration(std::string& out, std::chrono::nanoseconds duration) {
  char text[32];
  std::snprintf(text, sizeof text, " duration=%.3fms", duration.count() / 1e6);
  out += text;
}

}  // namespace

std::string CommandLogListener::format(const CommandStartedEvent& event) {
  std::string out = head("started", event.command_name, event.request_id, event.address);
  out += " db=";
  out += event.database;
  if (event.command_name == "killCursors") {
    append_id_list(out, "cursors", event.command);
  } else if (event.command_name == "getMore") {
    if (auto id = event.command.find("getMore"); id && id->is_number()) {
      out += " cursor=" + std::to_string(id->as_int64());
    }
  }
  return out;
}

std::string CommandLogListener::format(const CommandSucceededEvent& event) {
  std::string out = head("succeeded", event.command_name, event.request_id, event.address);
  append_duration(out, event.duration);
  if (event.command_name == "killCursors") {
    for (auto key : {"cursorsKilled", "cursorsNotFound", "cursorsAlive", "cursorsUnknown"}) {
      append_id_list(out, key, event.reply);
    }
  }
  return out;
}

std::string CommandLogListener::format(const CommandFailedEvent& event) {
  std::string out = head("failed", event.command_name, event.request_id, event.address);
  append_duration(out, event.duration);
  out += " error=\"";
  out += event.message;
  out += "\" (" + std::string(event.code.category().name()) + ":" +
         std::to_string(event.code.value()) + ")";
  return out;
}

std::string CommandLogListener::format(const CursorsDroppedEvent& event) {
  std::string out = "dropped cursors server=" + event.address.to_string() + " ns=";
  out += event.ns;
  out += " reason=\"";
  out += event.reason;
  out += "\" cursors=[";
  for (std::size_t i = 0; i < event.cursor_ids.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(event.cursor_ids[i]);
  }
  out += ']';
  return out;
}

void CommandLogListener::on(const CommandStartedEvent& event) {
  log::emit(log::component::commands, log::Level::info, format(event));
}
void CommandLogListener::on(const CommandSucceededEvent& event) {
  log::emit(log::component::commands, log::Level::info, format(event));
}
void CommandLogListener::on(const CommandFailedEvent& event) {
  log::emit(log::component::commands, log::Level::info, format(event));
}
void CommandLogListener::on(const CursorsDroppedEvent& event) {
  log::emit(log::component::commands, log::Level::warning, format(event));
}

}  // namespace mongoslice
