// crud_shell: runs one operation of the mongoslice API against a server and prints its result as
// relaxed extended JSON, one document per line (a cursor's documents one per line).
//
//   crud_shell --uri mongodb://127.0.0.1:27017 update_one app.users '{"name":"ada"}' \
//              '{"$set":{"age":37}}' '{"upsert":true}'
//   crud_shell --uri URI find app.users '{"age":{"$gt":30}}' '{"sort":{"age":-1},"limit":5}'
//   crud_shell --uri URI list_collection_names app
//
// The arguments after the operation are the namespace (db.collection; just db for the database
// operations; nothing for the client's) and the operation's JSON arguments in the CRUD spec's
// order, then an optional options document with the spec's camelCase option names. `crud_shell
// --help` lists every operation. Errors print on stderr with exit status 1; usage errors 2.

#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "mongoslice.hpp"

namespace {

using mongoslice::bson::Builder;
using mongoslice::bson::Document;
using mongoslice::bson::Type;
using mongoslice::bson::View;

struct Usage : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// The positional arguments after the operation and its namespace.
class Arguments {
 public:
  explicit Arguments(std::vector<std::string> values) : values_(std::move(values)) {}

  // The JSON document (or array) at `index`; `fallback` when it was left out.
  Document json(std::size_t index, std::string_view what, const char* fallback = nullptr) const {
    if (index >= values_.size()) {
      if (fallback) return Document::from_json(fallback);
      throw Usage("missing argument: " + std::string(what));
    }
    return Document::from_json(values_[index]);
  }
  std::string text(std::size_t index, std::string_view what) const {
    if (index >= values_.size()) throw Usage("missing argument: " + std::string(what));
    return values_[index];
  }
  // The options document: the argument at `index`, or {} when it was left out.
  Document options(std::size_t index) const { return json(index, "options", "{}"); }
  void at_most(std::size_t count) const {
    if (values_.size() > count) throw Usage("too many arguments");
  }

 private:
  std::vector<std::string> values_;
};

// Reading the options document: each accessor takes a key the user may give.
class Options {
 public:
  explicit Options(Document doc) : doc_(std::move(doc)) {}
  std::optional<Document> document(std::string_view key) const {
    auto e = doc_.view().find(key);
    if (!e) return std::nullopt;
    if (e->type() != Type::kDocument && e->type() != Type::kArray)
      throw Usage("option " + std::string(key) + " must be a document");
    return Document(e->type() == Type::kDocument ? e->get_document() : e->get_array());
  }
  std::optional<std::int64_t> integer(std::string_view key) const {
    auto e = doc_.view().find(key);
    if (!e) return std::nullopt;
    if (e->type() == Type::kInt32) return e->get_int32();
    if (e->type() == Type::kInt64) return e->get_int64();
    if (e->type() == Type::kDouble) return static_cast<std::int64_t>(e->get_double());
    throw Usage("option " + std::string(key) + " must be a number");
  }
  bool flag(std::string_view key) const {
    auto e = doc_.view().find(key);
    if (!e) return false;
    if (e->type() != Type::kBool) throw Usage("option " + std::string(key) + " must be true/false");
    return e->get_bool();
  }
  std::optional<std::string> string(std::string_view key) const {
    auto e = doc_.view().find(key);
    if (!e) return std::nullopt;
    if (e->type() != Type::kString) throw Usage("option " + std::string(key) + " must be a string");
    return std::string(e->get_string());
  }

 private:
  Document doc_;
};

void print(View document) {
  std::cout << document.to_json() << '\n';
}

void print(mongoslice::Cursor cursor) {
  for (View document : cursor) print(document);
}

void print(const std::optional<Document>& document) {
  if (document) {
    print(document->view());
  } else {
    std::cout << "null\n";
  }
}

void print(const mongoslice::UpdateResult& r) {
  Builder b;
  b.append("matchedCount", r.matched_count).append("modifiedCount", r.modified_count);
  b.append("upsertedCount", r.upserted_count);
  if (r.upserted_id) b.append("upsertedId", (*r.upserted_id)["_id"]);
  print(b.build().view());
}

void print_names(const std::vector<std::string>& names) {
  for (const auto& name : names) std::cout << name << '\n';
}

void print_count(std::int64_t n) {
  print(Builder{}.append("n", n).build().view());
}

// The database and collection of "db.collection".
struct Namespace {
  std::string db, collection;
};
Namespace split(const std::string& ns) {
  auto dot = ns.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == ns.size())
    throw Usage("expected a namespace db.collection, got '" + ns + "'");
  return {ns.substr(0, dot), ns.substr(dot + 1)};
}

std::vector<Document> documents_of(const Document& array, std::string_view what) {
  std::vector<Document> out;
  for (auto e : array.view()) {
    if (e.type() != Type::kDocument)
      throw Usage(std::string(what) + " must be an array of documents");
    out.emplace_back(e.get_document());
  }
  return out;
}

mongoslice::UpdateOptions update_options(const Options& o) {
  mongoslice::UpdateOptions out;
  out.upsert = o.flag("upsert");
  if (auto filters = o.document("arrayFilters"))
    out.array_filters = documents_of(*filters, "arrayFilters");
  out.collation = o.document("collation");
  if (auto hint = o.document("hint")) out.hint = *hint;
  return out;
}

mongoslice::FindOptions find_options(const Options& o) {
  mongoslice::FindOptions out;
  out.projection = o.document("projection");
  out.sort = o.document("sort");
  out.skip = o.integer("skip").value_or(0);
  out.limit = o.integer("limit").value_or(0);
  out.batch_size = static_cast<std::int32_t>(o.integer("batchSize").value_or(0));
  return out;
}

mongoslice::ReturnDocument return_document(const Options& o) {
  auto which = o.string("returnDocument").value_or("Before");
  if (which == "After" || which == "after") return mongoslice::ReturnDocument::kAfter;
  if (which == "Before" || which == "before") return mongoslice::ReturnDocument::kBefore;
  throw Usage("returnDocument must be Before or After");
}

// One bulk_write request in the CRUD spec's shape: {insertOne: {document}},
// {updateOne: {filter, update, upsert}}, {deleteMany: {filter}}, ...
mongoslice::WriteModel write_model(View request) {
  auto it = request.begin();
  if (it == request.end() || (*it).type() != Type::kDocument)
    throw Usage("each bulk_write request is {insertOne|updateOne|...: {...}}");
  const std::string kind((*it).key());
  const Options args{Document((*it).get_document())};
  auto required = [&](std::string_view key) {
    auto d = args.document(key);
    if (!d) throw Usage(kind + " needs " + std::string(key));
    return *d;
  };
  if (kind == "insertOne") return mongoslice::InsertOneModel{required("document")};
  if (kind == "updateOne")
    return mongoslice::UpdateOneModel{required("filter"), required("update"), update_options(args)};
  if (kind == "updateMany")
    return mongoslice::UpdateManyModel{required("filter"), required("update"),
                                       update_options(args)};
  if (kind == "replaceOne") {
    mongoslice::ReplaceOptions options;
    options.upsert = args.flag("upsert");
    return mongoslice::ReplaceOneModel{required("filter"), required("replacement"), options};
  }
  if (kind == "deleteOne") return mongoslice::DeleteOneModel{required("filter"), {}};
  if (kind == "deleteMany") return mongoslice::DeleteManyModel{required("filter"), {}};
  throw Usage("unknown bulk_write request '" + kind + "'");
}

void print(const mongoslice::BulkWriteResult& r) {
  Builder b;
  b.append("insertedCount", r.inserted_count).append("matchedCount", r.matched_count);
  b.append("modifiedCount", r.modified_count).append("deletedCount", r.deleted_count);
  b.append("upsertedCount", r.upserted_count);
  b.open_document("upsertedIds");
  for (const auto& [index, id] : r.upserted_ids) b.append(std::to_string(index), id["_id"]);
  b.close();
  print(b.build().view());
}

using Operation = std::function<void(mongoslice::MongoClient&, const Arguments&)>;

// Collection operations take "db.collection" first.
Operation on_collection(std::function<void(const mongoslice::Collection&, const Arguments&)> f) {
  return [f](mongoslice::MongoClient& client, const Arguments& args) {
    auto ns = split(args.text(0, "namespace db.collection"));
    f(client[ns.db][ns.collection], args);
  };
}
Operation on_database(std::function<void(const mongoslice::Database&, const Arguments&)> f) {
  return [f](mongoslice::MongoClient& client, const Arguments& args) {
    f(client[args.text(0, "database")], args);
  };
}

struct Entry {
  std::string_view arguments;  // for --help
  Operation run;
};

const std::map<std::string, Entry, std::less<>>& operations() {
  using mongoslice::Collection;
  using mongoslice::Database;
  static const std::map<std::string, Entry, std::less<>> table = {
      {"insert_one",
       {"db.coll DOCUMENT", on_collection([](const Collection& c, const Arguments& a) {
          a.at_most(2);
          print(c.insert_one(a.json(1, "document").view()).inserted_id.view());
        })}},
      {"insert_many",
       {"db.coll [DOCUMENT, ...] [{ordered}]",
        on_collection([](const Collection& c, const Arguments& a) {
          a.at_most(3);
          mongoslice::InsertManyOptions options;
          Options o(a.options(2));
          options.ordered = !a.options(2).view().contains("ordered") || o.flag("ordered");
          auto r = c.insert_many(documents_of(a.json(1, "documents"), "documents"), options);
          Builder b;
          b.append("insertedCount", r.inserted_count).open_document("insertedIds");
          for (const auto& [index, id] : r.inserted_ids) b.append(std::to_string(index), id["_id"]);
          b.close();
          print(b.build().view());
        })}},
      {"find",
       {"db.coll FILTER [{projection, sort, skip, limit, batchSize}]",
        on_collection([](const Collection& c, const Arguments& a) {
          a.at_most(3);
          print(c.find(a.json(1, "filter", "{}").view(), find_options(Options(a.options(2)))));
        })}},
      {"find_one",
       {"db.coll FILTER [{projection, sort, skip}]",
        on_collection([](const Collection& c, const Arguments& a) {
          a.at_most(3);
          print(c.find_one(a.json(1, "filter", "{}").view(), find_options(Options(a.options(2)))));
        })}},
      {"update_one",
       {"db.coll FILTER UPDATE [{upsert, arrayFilters, collation, hint}]",
        on_collection([](const Collection& c, const Arguments& a) {
          a.at_most(4);
          print(c.update_one(a.json(1, "filter").view(), a.json(2, "update").view(),
                             update_options(Options(a.options(3)))));
        })}},
      {"update_many",
       {"db.coll FILTER UPDATE [{upsert, arrayFilters, collation, hint}]",
        on_collection([](const Collection& c, const Arguments& a) {
          a.at_most(4);
          print(c.update_many(a.json(1, "filter").view(), a.json(2, "update").view(),
                              update_options(Options(a.options(3)))));
        })}},
      {"replace_one",
       {"db.coll FILTER REPLACEMENT [{upsert}]",
        on_collection([](const Collection& c, const Arguments& a) {
          a.at_most(4);
          mongoslice::ReplaceOptions options;
          options.upsert = Options(a.options(3)).flag("upsert");
          print(
              c.replace_one(a.json(1, "filter").view(), a.json(2, "replacement").view(), options));
        })}},
      {"delete_one", {"db.coll FILTER", on_collection([](const Collection& c, const Arguments& a) {
                        a.at_most(2);
                        print_count(c.delete_one(a.json(1, "filter").view()).deleted_count);
                      })}},
      {"delete_many", {"db.coll FILTER", on_collection([](const Collection& c, const Arguments& a) {
                         a.at_most(2);
                         print_count(c.delete_many(a.json(1, "filter").view()).deleted_count);
                       })}},
      {"count_documents",
       {"db.coll [FILTER] [{skip, limit}]",
        on_collection([](const Collection& c, const Arguments& a) {
          a.at_most(3);
          Options o(a.options(2));
          mongoslice::CountOptions options;
          options.skip = o.integer("skip");
          options.limit = o.integer("limit");
          print_count(c.count_documents(a.json(1, "filter", "{}").view(), options));
        })}},
      {"estimated_document_count",
       {"db.coll", on_collection([](const Collection& c, const Arguments& a) {
          a.at_most(1);
          print_count(c.estimated_document_count());
        })}},
      {"distinct",
       {"db.coll FIELD [FILTER]", on_collection([](const Collection& c, const Arguments& a) {
          a.at_most(3);
          Document values = c.distinct(a.text(1, "field"), a.json(2, "filter", "{}").view());
          for (auto e : values.view()) print(Builder{}.append("value", e).build().view());
        })}},
      {"aggregate",
       {"db.coll [STAGE, ...] [{batchSize, allowDiskUse}]",
        on_collection([](const Collection& c, const Arguments& a) {
          a.at_most(3);
          Options o(a.options(2));
          mongoslice::AggregateOptions options;
          options.batch_size = static_cast<std::int32_t>(o.integer("batchSize").value_or(0));
          if (a.options(2).view().contains("allowDiskUse"))
            options.allow_disk_use = o.flag("allowDiskUse");
          print(c.aggregate(a.json(1, "pipeline").view(), options));
        })}},
      {"find_one_and_update",
       {"db.coll FILTER UPDATE [{returnDocument: Before|After, upsert, sort, projection}]",
        on_collection([](const Collection& c, const Arguments& a) {
          a.at_most(4);
          Options o(a.options(3));
          mongoslice::FindOneAndUpdateOptions options;
          options.return_document = return_document(o);
          options.upsert = o.flag("upsert");
          options.sort = o.document("sort");
          options.projection = o.document("projection");
          print(c.find_one_and_update(a.json(1, "filter").view(), a.json(2, "update").view(),
                                      options));
        })}},
      {"find_one_and_replace",
       {"db.coll FILTER REPLACEMENT [{returnDocument: Before|After, upsert, sort, projection}]",
        on_collection([](const Collection& c, const Arguments& a) {
          a.at_most(4);
          Options o(a.options(3));
          mongoslice::FindOneAndReplaceOptions options;
          options.return_document = return_document(o);
          options.upsert = o.flag("upsert");
          options.sort = o.document("sort");
          options.projection = o.document("projection");
          print(c.find_one_and_replace(a.json(1, "filter").view(), a.json(2, "replacement").view(),
                                       options));
        })}},
      {"find_one_and_delete",
       {"db.coll FILTER [{sort, projection}]",
        on_collection([](const Collection& c, const Arguments& a) {
          a.at_most(3);
          Options o(a.options(2));
          mongoslice::FindOneAndDeleteOptions options;
          options.sort = o.document("sort");
          options.projection = o.document("projection");
          print(c.find_one_and_delete(a.json(1, "filter").view(), options));
        })}},
      {"bulk_write",
       {"db.coll [{insertOne: {document}}, {updateOne: {filter, update}}, ...] [{ordered}]",
        on_collection([](const Collection& c, const Arguments& a) {
          a.at_most(3);
          std::vector<mongoslice::WriteModel> requests;
          for (const auto& r : documents_of(a.json(1, "requests"), "requests"))
            requests.push_back(write_model(r.view()));
          mongoslice::BulkWriteOptions options;
          Options o(a.options(2));
          options.ordered = !a.options(2).view().contains("ordered") || o.flag("ordered");
          print(c.bulk_write(requests, options));
        })}},
      {"create_index",
       {"db.coll KEYS [{name, unique, sparse}]",
        on_collection([](const Collection& c, const Arguments& a) {
          a.at_most(3);
          Options o(a.options(2));
          mongoslice::IndexOptions options;
          options.name = o.string("name");
          if (a.options(2).view().contains("unique")) options.unique = o.flag("unique");
          if (a.options(2).view().contains("sparse")) options.sparse = o.flag("sparse");
          std::cout << c.create_index(a.json(1, "keys").view(), options) << '\n';
        })}},
      {"list_indexes", {"db.coll", on_collection([](const Collection& c, const Arguments& a) {
                          a.at_most(1);
                          print(c.list_indexes());
                        })}},
      {"drop_index", {"db.coll NAME", on_collection([](const Collection& c, const Arguments& a) {
                        a.at_most(2);
                        c.drop_index(std::string_view(a.text(1, "index name")));
                      })}},
      {"drop_indexes", {"db.coll", on_collection([](const Collection& c, const Arguments& a) {
                          a.at_most(1);
                          c.drop_indexes();
                        })}},
      {"rename",
       {"db.coll NEW_NAME [{dropTarget}]",
        on_collection([](const Collection& c, const Arguments& a) {
          a.at_most(3);
          mongoslice::RenameOptions options;
          options.drop_target = Options(a.options(2)).flag("dropTarget");
          auto renamed = c.rename(a.text(1, "new name"), options);
          std::cout << renamed.database_name() << '.' << renamed.name() << '\n';
        })}},
      {"drop", {"db.coll", on_collection([](const Collection& c, const Arguments& a) {
                  a.at_most(1);
                  c.drop();
                })}},
      {"run_command", {"db COMMAND", on_database([](const Database& d, const Arguments& a) {
                         a.at_most(2);
                         print(d.run_command(a.json(1, "command").view()).view());
                       })}},
      {"list_collections", {"db", on_database([](const Database& d, const Arguments& a) {
                              a.at_most(1);
                              print(d.list_collections());
                            })}},
      {"list_collection_names", {"db", on_database([](const Database& d, const Arguments& a) {
                                   a.at_most(1);
                                   print_names(d.list_collection_names());
                                 })}},
      {"create_collection", {"db NAME", on_database([](const Database& d, const Arguments& a) {
                               a.at_most(2);
                               d.create_collection(a.text(1, "collection name"));
                             })}},
      {"drop_database", {"db", on_database([](const Database& d, const Arguments& a) {
                           a.at_most(1);
                           d.drop();
                         })}},
      {"list_databases",
       {"",
        [](mongoslice::MongoClient& client, const Arguments& a) {
          a.at_most(0);
          for (const auto& db : client.list_databases()) print(db.view());
        }}},
      {"list_database_names",
       {"",
        [](mongoslice::MongoClient& client, const Arguments& a) {
          a.at_most(0);
          print_names(client.list_database_names());
        }}},
  };
  return table;
}

void usage(std::ostream& out) {
  out << "usage: crud_shell [--uri URI] OPERATION ARGUMENTS...\n"
         "  (the URI defaults to $MONGODB_URI; JSON arguments are extended JSON)\n"
         "operations:\n";
  for (const auto& [name, entry] : operations())
    out << "  " << name << ' ' << entry.arguments << '\n';
}

}  // namespace

int main(int argc, char** argv) {
  std::string uri = std::getenv("MONGODB_URI") ? std::getenv("MONGODB_URI") : "";
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage(std::cout);
      return 0;
    }
    if (arg == "--uri" && i + 1 < argc) {
      uri = argv[++i];
    } else if (arg.starts_with("--uri=")) {
      uri = arg.substr(6);
    } else {
      positional.emplace_back(arg);
    }
  }
  if (uri.empty() || positional.empty()) {
    usage(std::cerr);
    return 2;
  }
  const auto it = operations().find(positional.front());
  if (it == operations().end()) {
    std::cerr << "crud_shell: unknown operation '" << positional.front() << "'\n";
    usage(std::cerr);
    return 2;
  }
  try {
    mongoslice::MongoClient client(uri);
    it->second.run(client, Arguments({positional.begin() + 1, positional.end()}));
    return 0;
  } catch (const Usage& e) {
    std::cerr << "crud_shell " << it->first << ": " << e.what() << "\n  usage: crud_shell "
              << it->first << ' ' << it->second.arguments << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "crud_shell " << it->first << ": " << e.what() << '\n';
    return 1;
  }
}
