#pragma once
// The one list of integration tests that cannot pass on one of the real servers because that
// server deviates from MongoDB, each with the deviation. README.md's "Tests" section repeats it.
// Every test not listed here must pass on every server. A listed test is skipped with its reason
// printed (gtest's "[  SKIPPED ]" and ctest's "Skipped"), never silently.
//
// Parameterized tests call MONGOSLICE_SKIP_IF_THE_SERVER_DEVIATES() first (in SetUp or at the
// top of the body).

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace mongoslice::testing {

struct ServerDeviation {
  std::string_view test;       // the full gtest name: Suite.Test/Server
  std::string_view deviation;  // what the server does instead, and what MongoDB does
};

inline const std::vector<ServerDeviation> kServerDeviations = {
    {"ClientIntegration.InsertManyErrorCountsTheDocumentsInsertedBeforeIt/JavaServer",
     "mongo-java-server answers an ordered insert that stops at a duplicate key with n = the "
     "batch's size (5), not the documents inserted (3; its collection then holds 3, and PyMongo "
     "reports nInserted 5 too)"},
    {"ClientCatalog.ListCollectionNamesAppliesTheFilter/JavaServer",
     "mongo-java-server ignores the filter of listCollections (and nameOnly): it lists every "
     "collection with its full entry ({name: \"other\"} gives made and other; PyMongo's "
     "list_collection_names(filter=...) gets both too); MongoDB lists only the matching ones"},
    {"ClientCatalog.ListCollectionsIteratesAcrossBatches/FerretDB",
     "FerretDB ignores cursor.batchSize of listCollections: 5 collections come in the first batch "
     "with cursor id 0 (PyMongo's list_collections(batch_size=2) gets the same), so there is no "
     "getMore and no live cursor; MongoDB returns 2 entries and a live cursor (a scripted "
     "server proves both paths: tests/driver/database_catalog_test.cpp)"},
    {"ClientCatalog.ListCollectionsIteratesAcrossBatches/JavaServer",
     "mongo-java-server ignores cursor.batchSize of listCollections: 5 collections come in the "
     "first batch "
     "with cursor id 0 (PyMongo's list_collections(batch_size=2) gets the same), so there is no "
     "getMore and no live cursor; MongoDB returns 2 entries and a live cursor (a scripted "
     "server proves both paths: tests/driver/database_catalog_test.cpp)"},
    {"ClientCatalog.AbandonedListCollectionsCursorIsKilled/FerretDB",
     "FerretDB ignores cursor.batchSize of listCollections: 5 collections come in the first batch "
     "with cursor id 0 (PyMongo's list_collections(batch_size=2) gets the same), so there is no "
     "getMore and no live cursor; MongoDB returns 2 entries and a live cursor (a scripted "
     "server proves both paths: tests/driver/database_catalog_test.cpp)"},
    {"ClientCatalog.AbandonedListCollectionsCursorIsKilled/JavaServer",
     "mongo-java-server ignores cursor.batchSize of listCollections: 5 collections come in the "
     "first batch "
     "with cursor id 0 (PyMongo's list_collections(batch_size=2) gets the same), so there is no "
     "getMore and no live cursor; MongoDB returns 2 entries and a live cursor (a scripted "
     "server proves both paths: tests/driver/database_catalog_test.cpp)"},
    {"ClientCrud.ArrayFiltersChooseTheElements/FerretDB",
     "FerretDB v1.24.2 refuses an update statement with arrayFilters (code 238 NotImplemented: "
     "'support for field \"arrayFilters\" ... is not implemented yet'; PyMongo's "
     "update_one(..., array_filters=[...]) gets the same error); MongoDB applies the update to "
     "the matching array elements"},
    {"ClientCrud.UpdateWithAPipeline/FerretDB",
     "FerretDB v1.24.2 refuses an update statement whose u is a pipeline (code 14 TypeMismatch: "
     "'update.updates.u' is the wrong type 'array', expected type 'object'; PyMongo's "
     "update_many(filter, [{$set: ...}]) gets the same); MongoDB 4.2+ runs the pipeline"},
    {"ClientCrud.UpdateWithAPipeline/JavaServer",
     "mongo-java-server 1.47.0 (wire version 8, MongoDB 4.2) fails an update statement whose u is "
     "a pipeline with code 0, 'java.util.ArrayList cannot be cast to ... Document' (PyMongo's "
     "update_many(filter, [{$set: ...}]) gets the same); MongoDB 4.2+ runs the pipeline"},
    {"ClientIndex.ASparseIndexIsListedAsSparse/FerretDB",
     "FerretDB v1.24.2 accepts createIndexes with sparse: true but does not keep it: listIndexes "
     "shows the index without 'sparse' (PyMongo's create_index(..., sparse=True) then "
     "list_indexes() gets the same); MongoDB lists sparse: true"},
    {"ClientIndex.ARefusedIndexIsAServerError/JavaServer",
     "mongo-java-server 1.47.0 accepts a second index of the same name with other keys "
     "(listIndexes "
     "then shows two indexes named 'taken', and dropping the collection fails with 27 "
     "IndexNotFound; PyMongo's create_index gets the same); MongoDB refuses it with 86 "
     "IndexKeySpecsConflict"},
    {"ClientIndex.RenameWithDropTargetReplacesTheTarget/FerretDB",
     "FerretDB v1.24.2 refuses renameCollection with dropTarget: true (code 238 NotImplemented: "
     "'support for field \"dropTarget\" with non-default value true is not implemented yet'; "
     "PyMongo's rename(..., dropTarget=True) gets the same); MongoDB drops the target and renames"},
    {"ClientIndex.SpecialIndexTypesGetTheNamesServersGive/FerretDB",
     "FerretDB v1.24.2 refuses createIndexes of a hashed, 2dsphere or text index (code 27: "
     "'can't find index with key: { h: \"hashed\" }'; PyMongo's create_index([(\"h\", "
     "\"hashed\")]) gets the same); MongoDB creates them, named h_hashed, loc_2dsphere, t_text"},
    {"ClientBulkWrite.AllSixModelsAndTheirCountsMatchTheCollection/FerretDB",
     "FerretDB v1.24.2 numbers the entries of an update reply's 'upserted' among the upserts "
     "(0, 1, ...) instead of by the statement's index in the command (an update command of five "
     "statements whose 4th and 5th upsert, sent with PyMongo's Database.command, gets "
     "upserted: [{index: 0}, {index: 1}]; mongo-java-server says 3 and 4, the statements' "
     "indexes, which is what MongoDB documents), so a "
     "bulk write's upserted_ids land on the wrong requests"},
    {"ClientBulkWrite.OrderedStopsAtTheDuplicateKeyWithThePartialResult/JavaServer",
     "mongo-java-server answers an ordered insert command that stops at a duplicate key with "
     "n = the command's size (the bulk [insert 1, insert 2, upsert 3, insert 1, insert 4, "
     "delete 2] gives PyMongo nInserted 4 while the collection holds 1, 2 and 3); MongoDB and "
     "FerretDB count the 2 inserted"},
    {"ClientBulkWrite.UnorderedGoesOnAndReportsEveryErrorWithItsIndex/JavaServer",
     "mongo-java-server counts the failed documents of an unordered insert command in n (the "
     "bulk [insert 1, 1, 2, 2, update 2, insert 1, delete 1] gives PyMongo nInserted 5 for the 2 "
     "documents inserted); MongoDB and FerretDB count 2"},
    {"ClientReadOps.AggregateIteratesAcrossBatches/JavaServer",
     "mongo-java-server 1.47.0 ignores cursor.batchSize of aggregate: all 5 results come in the "
     "first batch with cursor id 0 (PyMongo's aggregate command with cursor: {batchSize: 2} gets "
     "the same), so there is no getMore; MongoDB returns 2 and a live cursor"},
    {"ClientReadOps.AbandonedAggregateCursorIsKilled/JavaServer",
     "mongo-java-server 1.47.0 ignores cursor.batchSize of aggregate: all 5 results come in the "
     "first batch with cursor id 0 (PyMongo's aggregate command with cursor: {batchSize: 2} gets "
     "the same), so there is no live cursor to kill; MongoDB returns 2 and a live cursor"},
    {"ClientReadOps.AggregateWithOutIsAWrite/FerretDB",
     "FerretDB v1.24.2 refuses the $out stage (code 238 NotImplemented: '`aggregate` stage "
     "\"$out\" is not implemented yet'; $merge likewise; PyMongo's aggregate gets the same); "
     "MongoDB writes the results into the named collection"},
    {"ClientReadOps.DatabaseAggregateRunsAggregateOne/FerretDB",
     "FerretDB v1.24.2 refuses the database-level {aggregate: 1} (code 9 FailedToParse: 'the "
     "aggregate field must specify a collection name or 1'; PyMongo's db.aggregate gets the "
     "same); MongoDB 5.1+ runs a pipeline that starts with $documents"},
    {"ClientReadOps.DatabaseAggregateRunsAggregateOne/JavaServer",
     "mongo-java-server 1.47.0 has no database-level aggregate: it reads {aggregate: 1} as a "
     "collection named \"1\" (cursor ns \"<db>.1\"), knows no $documents stage (code 40324; "
     "PyMongo's db.aggregate gets the same) and answers 'no such command' on admin; MongoDB 5.1+ "
     "runs a pipeline that starts with $documents"},
    {"ClientReadOps.ProjectionShapesTheReturnedDocument/FerretDB",
     "FerretDB v1.24.2 refuses findAndModify's fields (the projection: code 238 NotImplemented, "
     "'support for field \"fields\" ... is not implemented yet'; PyMongo's "
     "find_one_and_update(..., projection=...) gets the same); MongoDB returns the projected "
     "document"},
};

// The deviation listed for the running test, or nullptr.
inline const ServerDeviation* deviation_of_current_test() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string name = std::string(info->test_suite_name()) + "." + info->name();
  for (const auto& d : kServerDeviations) {
    if (d.test == name) return &d;
  }
  return nullptr;
}

}  // namespace mongoslice::testing

#define MONGOSLICE_SKIP_IF_THE_SERVER_DEVIATES()                                       \
  do {                                                                                 \
    if (const auto* deviation_ = ::mongoslice::testing::deviation_of_current_test()) { \
      GTEST_SKIP() << "server deviation (integration/server_deviations.hpp): "         \
                   << deviation_->deviation;                                           \
    }                                                                                  \
  } while (false)
