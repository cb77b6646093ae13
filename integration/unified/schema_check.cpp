#include "unified/schema_check.hpp"

#include <functional>
#include <map>
#include <regex>
#include <set>
#include <utility>
#include <vector>

#include "unified/value.hpp"

namespace mongoslice::unified {

namespace {

// A rule checks one value at a path and returns the violation, or empty.
using Rule = std::function<std::string(const bson::Element&, const std::string&)>;

std::string type_error(const std::string& path, std::string_view want, const bson::Element& e) {
  return path + ": must be " + std::string(want) + ", not " +
         std::string(unified_type_name(e.type()));
}

Rule any() {
  return [](const bson::Element&, const std::string&) { return std::string(); };
}
Rule str() {
  return [](const bson::Element& e, const std::string& p) {
    return e.type() == bson::Type::kString ? std::string() : type_error(p, "a string", e);
  };
}
Rule str_matching(std::string pattern) {
  return [re = std::regex(pattern), pattern](const bson::Element& e, const std::string& p) {
    if (e.type() != bson::Type::kString) return type_error(p, "a string", e);
    if (!std::regex_match(std::string(e.get_string()), re)) {
      return p + ": '" + std::string(e.get_string()) + "' does not match " + pattern;
    }
    return std::string();
  };
}
Rule boolean() {
  return [](const bson::Element& e, const std::string& p) {
    return e.type() == bson::Type::kBool ? std::string() : type_error(p, "a boolean", e);
  };
}
Rule const_true() {
  return [](const bson::Element& e, const std::string& p) {
    if (e.type() != bson::Type::kBool) return type_error(p, "a boolean", e);
    return e.get_bool() ? std::string() : p + ": must be true";
  };
}
Rule integer() {
  return [](const bson::Element& e, const std::string& p) {
    return e.type() == bson::Type::kInt32 || e.type() == bson::Type::kInt64
               ? std::string()
               : type_error(p, "an integer", e);
  };
}
Rule document() {
  return [](const bson::Element& e, const std::string& p) {
    return e.type() == bson::Type::kDocument ? std::string() : type_error(p, "a document", e);
  };
}
Rule one_of_strings(std::set<std::string> values) {
  return [values = std::move(values)](const bson::Element& e, const std::string& p) {
    if (e.type() != bson::Type::kString) return type_error(p, "a string", e);
    if (!values.count(std::string(e.get_string()))) {
      return p + ": '" + std::string(e.get_string()) + "' is not one of the allowed values";
    }
    return std::string();
  };
}
// Passes when any of `rules` passes; otherwise reports the violation found deepest in the value
// (the rule that matched its type and failed inside it).
Rule either(std::vector<Rule> rules) {
  return [rules = std::move(rules)](const bson::Element& e, const std::string& p) {
    std::string best;
    for (const auto& r : rules) {
      std::string error = r(e, p);
      if (error.empty()) return error;
      if (best.empty() || error.find(": ") > best.find(": ")) best = error;
    }
    return best;
  };
}
Rule array(Rule item, std::size_t min_items = 0) {
  return [item = std::move(item), min_items](const bson::Element& e, const std::string& p) {
    if (e.type() != bson::Type::kArray) return type_error(p, "an array", e);
    std::size_t i = 0;
    for (bson::Element x : e.get_array()) {
      if (auto error = item(x, p + "[" + std::to_string(i) + "]"); !error.empty()) return error;
      ++i;
    }
    if (i < min_items) {
      return p + ": must have at least " + std::to_string(min_items) + " item(s)";
    }
    return std::string();
  };
}

struct Prop {
  std::string name;
  Rule rule;
  bool required = false;
};

struct ObjectRule {
  std::vector<Prop> props;
  bool additional = false;         // unknown keys allowed
  Rule additional_rule;            // when set: unknown keys allowed, their values checked
  std::string additional_pattern;  // when set: unknown keys must match it
  std::size_t min_properties = 0;
  std::size_t max_properties = 0;  // 0: no maximum
  // Pairs of keys that must not appear together.
  std::vector<std::pair<std::string, std::string>> conflicts;
};

Rule object(ObjectRule spec) {
  return [spec = std::move(spec)](const bson::Element& e, const std::string& p) -> std::string {
    if (e.type() != bson::Type::kDocument) return type_error(p, "a document", e);
    bson::View doc = e.get_document();
    std::size_t count = 0;
    for (bson::Element field : doc) {
      ++count;
      const std::string key(field.key());
      const std::string sub = p + "." + key;
      const Prop* prop = nullptr;
      for (const auto& candidate : spec.props) {
        if (candidate.name == key) prop = &candidate;
      }
      if (prop) {
        if (auto error = prop->rule(field, sub); !error.empty()) return error;
        continue;
      }
      if (!spec.additional_pattern.empty() &&
          !std::regex_match(key, std::regex(spec.additional_pattern))) {
        return p + ": key '" + key + "' does not match " + spec.additional_pattern;
      }
      if (spec.additional_rule) {
        if (auto error = spec.additional_rule(field, sub); !error.empty()) return error;
      } else if (!spec.additional) {
        return p + ": unknown key '" + key + "'";
      }
    }
    for (const auto& prop : spec.props) {
      if (prop.required && !doc.contains(prop.name)) {
        return p + ": '" + prop.name + "' is required";
      }
    }
    if (count < spec.min_properties) {
      return p + ": must have at least " + std::to_string(spec.min_properties) + " key(s)";
    }
    if (spec.max_properties && count > spec.max_properties) {
      return p + ": must have at most " + std::to_string(spec.max_properties) + " key(s)";
    }
    for (const auto& [a, b] : spec.conflicts) {
      if (doc.contains(a) && doc.contains(b)) return p + ": '" + a + "' conflicts with '" + b + "'";
    }
    return std::string();
  };
}

// A document with exactly one key, one of `choices`, whose value passes that choice's rule.
Rule exactly_one_of(std::map<std::string, Rule> choices) {
  std::vector<Prop> props;
  for (auto& [name, rule] : choices) props.push_back({name, rule});
  return object({.props = std::move(props), .min_properties = 1, .max_properties = 1});
}

const std::string kVersion = R"(^[0-9]+(\.[0-9]+){1,2}$)";

Rule run_on_requirement() {
  return object(
      {.props = {{"minServerVersion", str_matching(kVersion)},
                 {"maxServerVersion", str_matching(kVersion)},
                 {"topologies", array(one_of_strings({"single", "replicaset", "sharded",
                                                      "sharded-replicaset", "load-balanced"}),
                                      1)},
                 {"serverless", one_of_strings({"require", "forbid", "allow"})},
                 {"serverParameters", document()},
                 {"auth", boolean()},
                 {"authMechanism", str()},
                 {"csfle", either({boolean(), object({.props = {{"minLibmongocryptVersion",
                                                                 str_matching(kVersion)}}})})}},
       .min_properties = 1});
}

Rule collection_or_database_options() {
  return object({.props = {{"readConcern", document()},
                           {"readPreference", document()},
                           {"writeConcern", document()},
                           {"timeoutMS", integer()}}});
}

Rule log_levels() {
  return one_of_strings(
      {"emergency", "alert", "critical", "error", "warning", "notice", "info", "debug", "trace"});
}

const std::set<std::string> kEventNames = {"commandStartedEvent",
                                           "commandSucceededEvent",
                                           "commandFailedEvent",
                                           "poolCreatedEvent",
                                           "poolReadyEvent",
                                           "poolClearedEvent",
                                           "poolClosedEvent",
                                           "connectionCreatedEvent",
                                           "connectionReadyEvent",
                                           "connectionClosedEvent",
                                           "connectionCheckOutStartedEvent",
                                           "connectionCheckOutFailedEvent",
                                           "connectionCheckedOutEvent",
                                           "connectionCheckedInEvent",
                                           "serverDescriptionChangedEvent",
                                           "topologyDescriptionChangedEvent",
                                           "serverHeartbeatStartedEvent",
                                           "serverHeartbeatSucceededEvent",
                                           "serverHeartbeatFailedEvent",
                                           "topologyOpeningEvent",
                                           "topologyClosedEvent",
                                           "serverOpeningEvent",
                                           "serverClosedEvent"};

Rule client_entity() {
  return object(
      {.props = {
           {"id", str(), true},
           {"uriOptions", document()},
           {"useMultipleMongoses", boolean()},
           {"observeEvents", array(one_of_strings(kEventNames), 1)},
           {"ignoreCommandMonitoringEvents", array(str(), 1)},
           {"storeEventsAsEntities", array(document(), 1)},
           {"observeLogMessages", object({.additional_rule = log_levels(), .min_properties = 1})},
           {"observeSensitiveCommands", boolean()},
           {"observeTracingMessages", object({.props = {{"enableCommandPayload", boolean()}}})},
           {"serverApi", object({.props = {{"version", str(), true},
                                           {"strict", boolean()},
                                           {"deprecationErrors", boolean()}}})},
           {"autoEncryptOpts", document()},
           {"awaitMinPoolSizeMS", integer()}}});
}

// A KMS credential: a string or a placeholder document.
Rule credential() {
  return either({str(), document()});
}

Rule kms_providers() {
  auto provider = [](std::vector<std::string> keys) {
    std::vector<Prop> props;
    for (auto& k : keys) props.push_back({k, credential()});
    return object({.props = std::move(props)});
  };
  const Rule aws = provider({"accessKeyId", "secretAccessKey", "sessionToken"});
  const Rule azure =
      provider({"tenantId", "clientId", "clientSecret", "identityPlatformEndpoint", "accessToken"});
  const Rule gcp = provider({"email", "privateKey", "endpoint", "accessToken"});
  const Rule kmip = provider({"endpoint"});
  const Rule local = provider({"key"});
  const std::vector<std::pair<std::string, Rule>> kinds = {
      {"aws", aws}, {"azure", azure}, {"gcp", gcp}, {"kmip", kmip}, {"local", local}};
  return [kinds](const bson::Element& e, const std::string& p) -> std::string {
    if (e.type() != bson::Type::kDocument) return type_error(p, "a document", e);
    static const std::regex name(R"(^(aws|azure|gcp|kmip|local)(:[a-zA-Z0-9_]+)?$)");
    for (bson::Element field : e.get_document()) {
      const std::string key(field.key());
      if (!std::regex_match(key, name)) return p + ": invalid KMS provider name '" + key + "'";
      const std::string kind = key.substr(0, key.find(':'));
      for (const auto& [k, rule] : kinds) {
        if (k == kind) {
          if (auto error = rule(field, p + "." + key); !error.empty()) return error;
        }
      }
    }
    return std::string();
  };
}

Rule entity() {
  return exactly_one_of({
      {"client", client_entity()},
      {"clientEncryption",
       object({.props = {{"id", str(), true},
                         {"clientEncryptionOpts",
                          object({.props = {{"keyVaultClient", str(), true},
                                            {"keyVaultNamespace", str(), true},
                                            {"kmsProviders", kms_providers(), true},
                                            {"keyExpirationMS", integer()}}}),
                          true}}})},
      {"database", object({.props = {{"id", str(), true},
                                     {"client", str(), true},
                                     {"databaseName", str(), true},
                                     {"databaseOptions", collection_or_database_options()}}})},
      {"collection", object({.props = {{"id", str(), true},
                                       {"database", str(), true},
                                       {"collectionName", str(), true},
                                       {"collectionOptions", collection_or_database_options()}}})},
      {"session", object({.props = {{"id", str(), true},
                                    {"client", str(), true},
                                    {"sessionOptions", document()}}})},
      {"bucket", object({.props = {{"id", str(), true},
                                   {"database", str(), true},
                                   {"bucketOptions", document()}}})},
      {"thread", object({.props = {{"id", str(), true}}})},
      {"stream", object({.props = {{"id", str(), true},
                                   {"hexBytes", str_matching("^([0-9A-Fa-f]{2})*$"), true}}})},
  });
}

Rule collection_data() {
  return object({.props = {{"collectionName", str(), true},
                           {"databaseName", str(), true},
                           {"createOptions", document()},
                           {"documents", array(document()), true}}});
}

Rule expected_error() {
  return object({.props = {{"isError", const_true()},
                           {"isClientError", boolean()},
                           {"isTimeoutError", boolean()},
                           {"errorContains", str()},
                           {"errorCode", integer()},
                           {"errorCodeName", str()},
                           {"errorLabelsContain", array(str(), 1)},
                           {"errorLabelsOmit", array(str(), 1)},
                           {"writeErrors", document()},
                           {"writeConcernErrors", array(document(), 1)},
                           {"errorResponse", document()},
                           {"expectResult", any()}},
                 .min_properties = 1});
}

Rule command_event_fields(std::vector<Prop> extra) {
  extra.push_back({"commandName", str()});
  extra.push_back({"databaseName", str()});
  extra.push_back({"hasServiceId", boolean()});
  extra.push_back({"hasServerConnectionId", boolean()});
  return object({.props = std::move(extra)});
}

Rule expected_command_event() {
  return exactly_one_of({
      {"commandStartedEvent", command_event_fields({{"command", document()}})},
      {"commandSucceededEvent", command_event_fields({{"reply", document()}})},
      {"commandFailedEvent", command_event_fields({})},
  });
}

Rule expected_cmap_event() {
  const Rule empty = object({});
  return exactly_one_of({
      {"poolCreatedEvent", empty},
      {"poolReadyEvent", empty},
      {"poolClearedEvent",
       object({.props = {{"hasServiceId", boolean()}, {"interruptInUseConnections", boolean()}}})},
      {"poolClosedEvent", empty},
      {"connectionCreatedEvent", empty},
      {"connectionReadyEvent", empty},
      {"connectionClosedEvent", object({.props = {{"reason", str()}}})},
      {"connectionCheckOutStartedEvent", empty},
      {"connectionCheckOutFailedEvent", object({.props = {{"reason", str()}}})},
      {"connectionCheckedOutEvent", empty},
      {"connectionCheckedInEvent", empty},
  });
}

Rule expected_sdam_event() {
  const Rule description =
      object({.props = {{"type", one_of_strings({"Standalone", "Mongos", "PossiblePrimary",
                                                 "RSPrimary", "RSSecondary", "RSOther", "RSArbiter",
                                                 "RSGhost", "LoadBalancer", "Unknown"})}}});
  const Rule topology = object(
      {.props = {{"type", one_of_strings({"Single", "ReplicaSetNoPrimary", "ReplicaSetWithPrimary",
                                          "Sharded", "LoadBalanced", "Unknown"})}}});
  const Rule heartbeat = object({.props = {{"awaited", boolean()}}});
  const Rule empty = object({});
  return exactly_one_of({
      {"serverDescriptionChangedEvent",
       object({.props = {{"previousDescription", description}, {"newDescription", description}}})},
      {"topologyDescriptionChangedEvent",
       object({.props = {{"previousDescription", topology}, {"newDescription", topology}}})},
      {"serverHeartbeatStartedEvent", heartbeat},
      {"serverHeartbeatSucceededEvent", heartbeat},
      {"serverHeartbeatFailedEvent", heartbeat},
      {"topologyOpeningEvent", empty},
      {"topologyClosedEvent", empty},
      {"serverOpeningEvent", empty},
      {"serverClosedEvent", empty},
  });
}

Rule expected_events_for_client() {
  const Rule base = object({.props = {{"client", str(), true},
                                      {"eventType", one_of_strings({"command", "cmap", "sdam"})},
                                      {"events", array(any()), true},
                                      {"ignoreExtraEvents", boolean()}}});
  return [base](const bson::Element& e, const std::string& p) -> std::string {
    if (auto error = base(e, p); !error.empty()) return error;
    bson::View doc = e.get_document();
    std::string type = "command";
    if (auto t = doc.find("eventType")) type = std::string(t->get_string());
    const Rule item = type == "cmap"   ? expected_cmap_event()
                      : type == "sdam" ? expected_sdam_event()
                                       : expected_command_event();
    return array(item)(doc["events"], p + ".events");
  };
}

Rule expected_log_message() {
  return object({.props = {{"level", log_levels(), true},
                           {"component",
                            one_of_strings(
                                {"command", "topology", "serverSelection", "connection", "client"}),
                            true},
                           {"data", document(), true},
                           {"failureIsRedacted", boolean()}}});
}

Rule expected_log_messages_for_client() {
  return object({.props = {{"client", str(), true},
                           {"messages", array(expected_log_message()), true},
                           {"ignoreMessages", array(document())},
                           {"ignoreExtraMessages", boolean()}}});
}

Rule tracing_span() {
  // Recursive: a span's nested spans are spans.
  return [](const bson::Element& e, const std::string& p) {
    return object({.props = {{"name", str(), true},
                             {"tags", document(), true},
                             {"nested", array(tracing_span(), 1)}}})(e, p);
  };
}

Rule expected_tracing_messages() {
  return object({.props = {{"client", str(), true},
                           {"ignoreExtraSpans", boolean()},
                           {"spans", array(tracing_span()), true}}});
}

Rule operation() {
  return object({.props = {{"name", str(), true},
                           {"object", str(), true},
                           {"arguments", document()},
                           {"ignoreResultAndError", boolean()},
                           {"expectError", expected_error()},
                           {"expectResult", any()},
                           {"expectEvents", array(expected_events_for_client(), 1)},
                           {"saveResultAsEntity", str()}},
                 .conflicts = {{"expectError", "expectResult"},
                               {"expectError", "saveResultAsEntity"},
                               {"ignoreResultAndError", "expectError"},
                               {"ignoreResultAndError", "expectResult"},
                               {"ignoreResultAndError", "saveResultAsEntity"}}});
}

Rule test() {
  return object({.props = {{"description", str(), true},
                           {"runOnRequirements", array(run_on_requirement(), 1)},
                           {"skipReason", str()},
                           {"operations", array(operation()), true},
                           {"expectEvents", array(expected_events_for_client(), 1)},
                           {"expectLogMessages", array(expected_log_messages_for_client(), 1)},
                           {"expectTracingMessages", expected_tracing_messages()},
                           {"outcome", array(collection_data(), 1)}}});
}

Rule test_file() {
  return object({.props = {{"description", str(), true},
                           {"schemaVersion", str_matching(kVersion), true},
                           {"runOnRequirements", array(run_on_requirement(), 1)},
                           {"createEntities", array(entity(), 1)},
                           {"initialData", array(collection_data(), 1)},
                           {"tests", array(test(), 1), true},
                           {"_yamlAnchors", document()}}});
}

}  // namespace

std::string check_schema(bson::View file) {
  bson::Document holder = bson::Builder{}.append("v", file).build();
  return test_file()(holder["v"], "$");
}

}  // namespace mongoslice::unified
