#pragma once
// The one place that says which unified tests are not run, and why. Every skip the runner makes
// comes from a table here and is printed as gtest's "[  SKIPPED ]" with its reason (ctest:
// "Skipped"); nothing is left out silently.
//
//  1. kSkippedTests: files or tests named by path and description: a deviation of one server
//     from MongoDB (named, with what MongoDB does; checked with PyMongo), or a mongoslice gap
//     that only this test shows.
//  2. Requirements the server does not meet: runOnRequirements are checked against the server's
//     buildInfo version and hello (topology); the reasons are made by the runner (runner.cpp)
//     from kUnmetRequirementReasons.
//  3. kNotBuiltOperations: operations of the format that mongoslice (or this runner) does not
//     have. An operation the format does not define at all is not skipped: the test fails.
//  4. kNotBuiltEntities, kNotBuiltClientOptions, kNotBuiltExpectations: the same for entity
//     types, client entity options and test-level expectations.

#include <string_view>
#include <vector>

namespace mongoslice::unified {

struct SkippedTest {
  // The file's path ends with this ("crud/tests/unified/find.json").
  std::string_view file;
  // The test's description; empty: every test of the file.
  std::string_view test;
  // The server (FerretDB, JavaServer, MongoDB); empty: every server.
  std::string_view server;
  std::string_view reason;
};

// Deviations checked with PyMongo 4 against the suite's servers (FerretDB v1.24.2 reports
// version 7.0.42, mongo-java-server 1.47.0 reports 5.0.0 with maxWireVersion 8).
constexpr std::string_view kJavaNoHello =
    "mongo-java-server answers hello with CommandNotFound (59) although it reports version 5.0.0 "
    "(PyMongo's db.command('hello') gets the same); MongoDB 4.4.2+ has hello";
constexpr std::string_view kJavaNoGetnonce =
    "mongo-java-server answers getnonce with CommandNotFound (59) although it reports version "
    "5.0.0 (PyMongo's db.command('getnonce') gets the same); MongoDB before 6.2 has getnonce";
constexpr std::string_view kUnknownQueryOperator =
    "the server ignores an unknown top-level query operator: find({$unsupportedQueryOperator: 1}) "
    "returns [] (PyMongo gets the same on FerretDB and mongo-java-server); MongoDB fails it with "
    "BadValue (2), 'unknown top level operator'";

constexpr std::string_view kFerretCollation =
    "FerretDB v1.24.2 refuses collation on find/aggregate/update/delete with NotImplemented (238) "
    "'support for field \"collation\" ... is not implemented yet' (PyMongo's delete_many(..., "
    "collation=Collation('en_US', strength=2)) gets the same); MongoDB applies the collation";
constexpr std::string_view kJavaCollation =
    "mongo-java-server ignores collation: with {locale: en_US, strength: 2} PyMongo's "
    "delete_many({x: 'PING'}) and update_many match 1 of 'ping'/'PING' (case-sensitive), and "
    "find({x: 'PING'}) finds nothing of {x: 'ping'}; MongoDB compares case-insensitively";
constexpr std::string_view kFerretDocumentComment =
    "FerretDB v1.24.2 refuses a document comment on find, delete and update: TypeMismatch (14) "
    "\"BSON field 'delete.comment' is the wrong type 'object', expected type 'string'\" (PyMongo's "
    "delete_many(..., comment={...}) and find(..., comment={...}) get the same); MongoDB 4.4+ "
    "takes a comment of any type";
constexpr std::string_view kFerretLet =
    "FerretDB v1.24.2 refuses let on find, delete and update with NotImplemented (238) (PyMongo's "
    "delete_many(..., let={...}) and find(..., let={...}) get the same); MongoDB 5.0+ defines "
    "the variables";
constexpr std::string_view kJavaLet =
    "mongo-java-server ignores let: the filter's $$name fails with 'Use of undefined variable' "
    "(17276; PyMongo's delete_many(..., let={name: ...}) and find(..., let={...}) get the same); "
    "MongoDB 5.0+ defines the variables";
constexpr std::string_view kFerretArrayFilters =
    "FerretDB v1.24.2 refuses an update statement with arrayFilters (NotImplemented 238; PyMongo "
    "gets the same; also in integration/server_deviations.hpp); MongoDB applies them";
constexpr std::string_view kFerretDotsAndDollars =
    "FerretDB v1.24.2 refuses field names containing '.' or starting with '$' (write error 2, "
    "'invalid key: \"a.b\"'; PyMongo's insert_one({'a.b': 1}) gets the same); MongoDB 5.0+ "
    "stores them (top-level dotted names since 3.6)";
constexpr std::string_view kJavaDottedReplacement =
    "mongo-java-server refuses a replacement with a top-level dotted field name with a write "
    "error that has no code ('illegal field name. must not happen as it must be caught by the "
    "driver'; PyMongo's replace_one gets the same); MongoDB 3.6+ stores it";
constexpr std::string_view kFerretPipelineUpdate =
    "FerretDB v1.24.2 refuses an update statement whose u is a pipeline (TypeMismatch 14, "
    "'update.updates.u' is the wrong type 'array'; PyMongo gets the same; also in "
    "integration/server_deviations.hpp); MongoDB 4.2+ runs the pipeline";
constexpr std::string_view kJavaPipelineUpdate =
    "mongo-java-server fails an update statement whose u is a pipeline with 'java.util.ArrayList "
    "cannot be cast to ... Document' (PyMongo gets the same; also in "
    "integration/server_deviations.hpp); MongoDB 4.2+ runs the pipeline";
constexpr std::string_view kJavaNullId =
    "mongo-java-server upserts a document with a generated ObjectId for the filter {_id: null} "
    "(PyMongo's update_one({_id: None}, {$set: ...}, upsert=True) then finds _id ObjectId(...)); "
    "MongoDB takes the null _id from the filter, so count_documents({_id: null}) is 1";

constexpr std::string_view kJavaUnknownOperatorFailsCommand =
    "mongo-java-server fails the whole delete command (ok: 0, BadValue 2 'unknown operator: "
    "$unsupported') for a statement with an unknown query operator; MongoDB answers ok: 1 with "
    "the statement's writeErrors entry";
constexpr std::string_view kJavaInsertCountsFailures =
    "mongo-java-server counts the documents that failed in an insert's n (n: 1 for a duplicate "
    "_id, as in integration/server_deviations.hpp); MongoDB answers n: 0";
constexpr std::string_view kUnacknowledgedReplyCounts =
    "the server answers a w: 0 insert with its counts ({n: 1, ok: 1}); MongoDB answers an "
    "unacknowledged write with {ok: 1} only (mongoslice sends w: 0 and reads the reply, without "
    "moreToCome)";
constexpr std::string_view kFerretUpdateErrorsWithoutN =
    "FerretDB v1.24.2 leaves n and nModified out of an update reply that has writeErrors; "
    "MongoDB answers n: 0, nModified: 0 beside them";
constexpr std::string_view kJavaHintUnacknowledged =
    "mongo-java-server reports version 5.0.0 (so the test's minServerVersion 4.4 holds) but "
    "maxWireVersion 8 (MongoDB 4.2), and the CRUD spec refuses hint with an unacknowledged "
    "write concern below wire version 9: mongoslice refuses it client-side, as PyMongo does "
    "('Must be connected to MongoDB 4.4+ to use hint on unacknowledged find and modify "
    "commands'); MongoDB 4.4+ reports wire version 9 or more";
constexpr std::string_view kJavaGetMoreComment =
    "mongo-java-server reports version 5.0.0 (so the test's minServerVersion 4.4 holds) but "
    "maxWireVersion 8 (MongoDB 4.2), and getMore takes a comment only from wire version 9: "
    "mongoslice leaves it out there, as PyMongo does (its getMore carries a comment only when "
    "max_wire_version >= 9); MongoDB 4.4+ reports wire version 9 or more";
constexpr std::string_view kFerretFindAndModifyFields =
    "FerretDB v1.24.2 refuses findAndModify with a projection ('fields') with NotImplemented "
    "(238) (PyMongo's find_one_and_update(..., projection=...) gets the same); MongoDB applies it";
constexpr std::string_view kNoKeyPatternInDuplicateKeyError =
    "the server's duplicate key error of findAndModify lacks keyPattern / keyValue: FerretDB "
    "v1.24.2 answers with code 1 and a stack trace instead of DuplicateKey (11000), "
    "mongo-java-server with E11000 and no keyPattern (both seen with PyMongo); MongoDB 4.4+ "
    "includes keyPattern and keyValue";
constexpr std::string_view kJavaUnorderedInsertCount =
    "mongo-java-server answers an insert that hits a duplicate key with n = the batch's size, "
    "not the documents inserted (also in integration/server_deviations.hpp; PyMongo reports "
    "nInserted 3 too); MongoDB counts 2";
constexpr std::string_view kFerretDatabaseAggregate =
    "FerretDB v1.24.2 refuses a database aggregate {aggregate: 1} (FailedToParse 9, 'the "
    "aggregate field must specify a collection name or 1'); MongoDB runs it";
constexpr std::string_view kJavaDatabaseAggregate =
    "mongo-java-server answers a database aggregate {aggregate: 1} with CommandNotFound (59); "
    "MongoDB runs it";
constexpr std::string_view kFerretOutMerge =
    "FerretDB v1.24.2 refuses the $out and $merge stages with NotImplemented (238); MongoDB "
    "writes the results";
constexpr std::string_view kJavaAggregateBatchSize =
    "mongo-java-server ignores aggregate's cursor.batchSize and returns every result in the "
    "first batch with cursor id 0 (PyMongo's raw aggregate with batchSize 2 over 5 documents "
    "gets 5); MongoDB returns batchSize documents and a live cursor";
constexpr std::string_view kFerretCollStatsCloses =
    "FerretDB v1.24.2 closes the connection on the test's aggregate ($collStats of a capped "
    "collection); MongoDB answers it";
constexpr std::string_view kFerretUpsertedIndex =
    "FerretDB v1.24.2 reports an upserted statement's index within the statements it upserted "
    "(index 0 for the 4th statement: {upserted: [{index: 0, _id: 3}]} for a raw update command "
    "sent with PyMongo); MongoDB reports the statement's index in the command (3)";

constexpr std::string_view kJavaNoSessions =
    "mongo-java-server's hello has no logicalSessionTimeoutMinutes, so the deployment does not "
    "support sessions and the sessions spec sends no lsid; the test expects one";

constexpr std::string_view kFerretReturnKey =
    "FerretDB v1.24.2 refuses find with returnKey: true with NotImplemented (238) (PyMongo's "
    "find({}, return_key=True) gets the same); MongoDB returns only the keys of the index it used";
constexpr std::string_view kJavaReturnKey =
    "mongo-java-server ignores returnKey and showRecordId: find returns whole documents "
    "(PyMongo's find({}, return_key=True, show_record_id=True) gets {_id: 1, x: 11}); MongoDB "
    "returns only the keys of the index it used ({_id: 1} for this test's sort by _id)";

inline const std::vector<SkippedTest> kSkippedTests = {
    {"run-command/tests/unified/runCommand.json",
     "always attaches $db and implicit lsid to given command and omits default readPreference",
     "JavaServer", kJavaNoSessions},
    {"run-command/tests/unified/runCursorCommand.json", "supports configuring getMore batchSize",
     "JavaServer", kJavaNoSessions},
    {"run-command/tests/unified/runCursorCommand.json", "supports configuring getMore maxTimeMS",
     "JavaServer", kJavaNoSessions},
    {"run-command/tests/unified/runCursorCommand.json", "supports configuring getMore comment",
     "JavaServer", kJavaNoSessions},
    {"run-command/tests/unified/runCursorCommand.json",
     "does not close the cursor when receiving an empty batch", "JavaServer", kJavaNoSessions},
    {"unified-test-format/tests/valid-pass/entity-commandCursor.json",
     "runCursorCommand creates and exhausts cursor by running getMores", "JavaServer",
     kJavaNoSessions},
    {"unified-test-format/tests/valid-pass/entity-commandCursor.json",
     "createCommandCursor's cursor can be closed and will perform a killCursors operation",
     "JavaServer", kJavaNoSessions},
    {"command-logging-and-monitoring/tests/monitoring/find.json",
     "A successful find with showRecordId and returnKey", "FerretDB", kFerretReturnKey},
    {"command-logging-and-monitoring/tests/monitoring/find.json",
     "A successful find with showRecordId and returnKey", "JavaServer", kJavaReturnKey},
    {"command-logging-and-monitoring/tests/monitoring/deleteMany.json",
     "A successful deleteMany with write errors", "JavaServer", kJavaUnknownOperatorFailsCommand},
    {"command-logging-and-monitoring/tests/monitoring/deleteOne.json",
     "A successful deleteOne with write errors", "JavaServer", kJavaUnknownOperatorFailsCommand},
    {"command-logging-and-monitoring/tests/monitoring/insertMany.json",
     "A successful insertMany with write errors", "JavaServer", kJavaInsertCountsFailures},
    {"command-logging-and-monitoring/tests/monitoring/insertOne.json",
     "A successful insertOne with write errors", "JavaServer", kJavaInsertCountsFailures},
    {"command-logging-and-monitoring/tests/monitoring/unacknowledgedBulkWrite.json",
     "A successful unordered bulk write with an unacknowledged write concern", "",
     kUnacknowledgedReplyCounts},
    {"command-logging-and-monitoring/tests/monitoring/updateMany.json",
     "A successful updateMany with write errors", "FerretDB", kFerretUpdateErrorsWithoutN},
    {"command-logging-and-monitoring/tests/monitoring/updateOne.json",
     "A successful updateOne with write errors", "FerretDB", kFerretUpdateErrorsWithoutN},
    {"unified-test-format/tests/valid-pass/collectionData-createOptions.json", "", "JavaServer",
     "mongo-java-server refuses create {capped: true, size: 4096} with 'Creating capped "
     "collections is not yet implemented' (code 0; PyMongo gets the same); MongoDB creates it"},
    {"unified-test-format/tests/valid-pass/expectedError-errorResponse.json",
     "Unsupported query operator", "", kUnknownQueryOperator},
    {"unified-test-format/tests/valid-fail/operation-failure.json", "Unsupported query operator",
     "", kUnknownQueryOperator},
    {"unified-test-format/tests/valid-pass/operator-type-number_alias.json",
     "type number alias matches decimal128", "FerretDB",
     "FerretDB v1.24.2 closes the connection on an insert holding a decimal128 value (PyMongo's "
     "insert_one({x: Decimal128('3.14159')}) gets AutoReconnect 'connection closed'); MongoDB "
     "stores it"},
    {"unified-test-format/tests/valid-pass/observeSensitiveCommands.json",
     "getnonce is observed with observeSensitiveCommands=true", "JavaServer", kJavaNoGetnonce},
    {"unified-test-format/tests/valid-pass/observeSensitiveCommands.json",
     "getnonce is not observed with observeSensitiveCommands=false", "JavaServer", kJavaNoGetnonce},
    {"unified-test-format/tests/valid-pass/observeSensitiveCommands.json",
     "getnonce is not observed by default", "JavaServer", kJavaNoGetnonce},
    {"unified-test-format/tests/valid-pass/observeSensitiveCommands.json",
     "hello with speculativeAuthenticate", "JavaServer", kJavaNoHello},
    {"command-logging-and-monitoring/tests/monitoring/redacted-commands.json", "getnonce",
     "JavaServer", kJavaNoGetnonce},
    {"command-logging-and-monitoring/tests/monitoring/redacted-commands.json",
     "hello with speculative authenticate", "JavaServer", kJavaNoHello},
    {"command-logging-and-monitoring/tests/monitoring/redacted-commands.json",
     "hello without speculative authenticate is not redacted", "JavaServer", kJavaNoHello},
    {"unified-test-format/tests/valid-pass/observeSensitiveCommands.json",
     "hello without speculativeAuthenticate is always observed", "JavaServer", kJavaNoHello},
    {"crud/tests/unified/count-collation.json", "Count documents with collation", "FerretDB",
     kFerretCollation},
    {"crud/tests/unified/create-null-ids.json", "inserting _id with type null via replaceOne",
     "JavaServer", kJavaNullId},
    {"crud/tests/unified/create-null-ids.json", "inserting _id with type null via updateMany",
     "JavaServer", kJavaNullId},
    {"crud/tests/unified/create-null-ids.json", "inserting _id with type null via updateOne",
     "JavaServer", kJavaNullId},
    {"crud/tests/unified/deleteMany-collation.json",
     "DeleteMany when many documents match with collation", "FerretDB", kFerretCollation},
    {"crud/tests/unified/deleteMany-collation.json",
     "DeleteMany when many documents match with collation", "JavaServer", kJavaCollation},
    {"crud/tests/unified/deleteMany-comment.json", "deleteMany with document comment", "FerretDB",
     kFerretDocumentComment},
    {"crud/tests/unified/deleteMany-let.json", "deleteMany with let option", "FerretDB",
     kFerretLet},
    {"crud/tests/unified/deleteMany-let.json", "deleteMany with let option", "JavaServer",
     kJavaLet},
    {"crud/tests/unified/deleteOne-let.json", "deleteOne with let option", "FerretDB", kFerretLet},
    {"crud/tests/unified/deleteOne-let.json", "deleteOne with let option", "JavaServer", kJavaLet},
    {"crud/tests/unified/insertMany-dots_and_dollars.json",
     "Inserting document with dollar-prefixed key in embedded doc", "FerretDB",
     kFerretDotsAndDollars},
    {"crud/tests/unified/insertMany-dots_and_dollars.json",
     "Inserting document with dotted key in embedded doc", "FerretDB", kFerretDotsAndDollars},
    {"crud/tests/unified/insertMany-dots_and_dollars.json",
     "Inserting document with top-level dollar-prefixed key on 5.0+ server", "FerretDB",
     kFerretDotsAndDollars},
    {"crud/tests/unified/insertMany-dots_and_dollars.json",
     "Inserting document with top-level dotted key", "FerretDB", kFerretDotsAndDollars},
    {"crud/tests/unified/replaceOne-dots_and_dollars.json",
     "Replacing document with dollar-prefixed key in embedded doc on 5.0+ server", "FerretDB",
     kFerretDotsAndDollars},
    {"crud/tests/unified/replaceOne-dots_and_dollars.json",
     "Replacing document with dotted key in embedded doc on 3.6+ server", "FerretDB",
     kFerretDotsAndDollars},
    {"crud/tests/unified/replaceOne-dots_and_dollars.json",
     "Replacing document with top-level dotted key on 3.6+ server", "FerretDB",
     kFerretDotsAndDollars},
    {"crud/tests/unified/replaceOne-dots_and_dollars.json",
     "Replacing document with top-level dotted key on 3.6+ server", "JavaServer",
     kJavaDottedReplacement},
    {"crud/tests/unified/replaceOne-let.json", "ReplaceOne with let option", "FerretDB",
     kFerretLet},
    {"crud/tests/unified/replaceOne-let.json", "ReplaceOne with let option", "JavaServer",
     kJavaLet},
    {"crud/tests/unified/updateMany-arrayFilters.json",
     "UpdateMany when multiple documents match arrayFilters", "FerretDB", kFerretArrayFilters},
    {"crud/tests/unified/updateMany-arrayFilters.json",
     "UpdateMany when no documents match arrayFilters", "FerretDB", kFerretArrayFilters},
    {"crud/tests/unified/updateMany-arrayFilters.json",
     "UpdateMany when one document matches arrayFilters", "FerretDB", kFerretArrayFilters},
    {"crud/tests/unified/updateMany-collation.json",
     "UpdateMany when many documents match with collation", "FerretDB", kFerretCollation},
    {"crud/tests/unified/updateMany-collation.json",
     "UpdateMany when many documents match with collation", "JavaServer", kJavaCollation},
    {"crud/tests/unified/updateMany-dots_and_dollars.json",
     "Updating document to set dollar-prefixed key in embedded doc on 5.0+ server", "FerretDB",
     kFerretPipelineUpdate},
    {"crud/tests/unified/updateMany-dots_and_dollars.json",
     "Updating document to set dollar-prefixed key in embedded doc on 5.0+ server", "JavaServer",
     kJavaPipelineUpdate},
    {"crud/tests/unified/updateMany-dots_and_dollars.json",
     "Updating document to set dotted key in embedded doc on 5.0+ server", "FerretDB",
     kFerretPipelineUpdate},
    {"crud/tests/unified/updateMany-dots_and_dollars.json",
     "Updating document to set dotted key in embedded doc on 5.0+ server", "JavaServer",
     kJavaPipelineUpdate},
    {"crud/tests/unified/updateMany-dots_and_dollars.json",
     "Updating document to set top-level dollar-prefixed key on 5.0+ server", "FerretDB",
     kFerretPipelineUpdate},
    {"crud/tests/unified/updateMany-dots_and_dollars.json",
     "Updating document to set top-level dollar-prefixed key on 5.0+ server", "JavaServer",
     kJavaPipelineUpdate},
    {"crud/tests/unified/updateMany-dots_and_dollars.json",
     "Updating document to set top-level dotted key on 5.0+ server", "FerretDB",
     kFerretPipelineUpdate},
    {"crud/tests/unified/updateMany-dots_and_dollars.json",
     "Updating document to set top-level dotted key on 5.0+ server", "JavaServer",
     kJavaPipelineUpdate},
    {"crud/tests/unified/updateMany-let.json", "updateMany with let option", "FerretDB",
     kFerretLet},
    {"crud/tests/unified/updateMany-let.json", "updateMany with let option", "JavaServer",
     kJavaPipelineUpdate},
    {"crud/tests/unified/updateMany-pipeline.json", "UpdateMany using pipelines", "FerretDB",
     kFerretPipelineUpdate},
    {"crud/tests/unified/updateMany-pipeline.json", "UpdateMany using pipelines", "JavaServer",
     kJavaPipelineUpdate},
    {"crud/tests/unified/updateOne-arrayFilters.json",
     "UpdateOne when multiple documents match arrayFilters", "FerretDB", kFerretArrayFilters},
    {"crud/tests/unified/updateOne-arrayFilters.json",
     "UpdateOne when no document matches arrayFilters", "FerretDB", kFerretArrayFilters},
    {"crud/tests/unified/updateOne-arrayFilters.json",
     "UpdateOne when no documents match multiple arrayFilters", "FerretDB", kFerretArrayFilters},
    {"crud/tests/unified/updateOne-arrayFilters.json",
     "UpdateOne when one document matches arrayFilters", "FerretDB", kFerretArrayFilters},
    {"crud/tests/unified/updateOne-arrayFilters.json",
     "UpdateOne when one document matches multiple arrayFilters", "FerretDB", kFerretArrayFilters},
    {"crud/tests/unified/updateOne-collation.json",
     "UpdateOne when one document matches with collation", "FerretDB", kFerretCollation},
    {"crud/tests/unified/updateOne-collation.json",
     "UpdateOne when one document matches with collation", "JavaServer", kJavaCollation},
    {"crud/tests/unified/updateOne-comment.json", "UpdateOne with document comment", "FerretDB",
     kFerretDocumentComment},
    {"crud/tests/unified/updateOne-dots_and_dollars.json",
     "Updating document to set dollar-prefixed key in embedded doc on 5.0+ server", "FerretDB",
     kFerretPipelineUpdate},
    {"crud/tests/unified/updateOne-dots_and_dollars.json",
     "Updating document to set dollar-prefixed key in embedded doc on 5.0+ server", "JavaServer",
     kJavaPipelineUpdate},
    {"crud/tests/unified/updateOne-dots_and_dollars.json",
     "Updating document to set dotted key in embedded doc on 5.0+ server", "FerretDB",
     kFerretPipelineUpdate},
    {"crud/tests/unified/updateOne-dots_and_dollars.json",
     "Updating document to set dotted key in embedded doc on 5.0+ server", "JavaServer",
     kJavaPipelineUpdate},
    {"crud/tests/unified/updateOne-dots_and_dollars.json",
     "Updating document to set top-level dollar-prefixed key on 5.0+ server", "FerretDB",
     kFerretPipelineUpdate},
    {"crud/tests/unified/updateOne-dots_and_dollars.json",
     "Updating document to set top-level dollar-prefixed key on 5.0+ server", "JavaServer",
     kJavaPipelineUpdate},
    {"crud/tests/unified/updateOne-dots_and_dollars.json",
     "Updating document to set top-level dotted key on 5.0+ server", "FerretDB",
     kFerretPipelineUpdate},
    {"crud/tests/unified/updateOne-dots_and_dollars.json",
     "Updating document to set top-level dotted key on 5.0+ server", "JavaServer",
     kJavaPipelineUpdate},
    {"crud/tests/unified/updateOne-pipeline.json", "UpdateOne using pipelines", "FerretDB",
     kFerretPipelineUpdate},
    {"crud/tests/unified/updateOne-pipeline.json", "UpdateOne using pipelines", "JavaServer",
     kJavaPipelineUpdate},
    {"crud/tests/unified/aggregate-collation.json", "Aggregate with collation", "FerretDB",
     kFerretCollation},
    {"crud/tests/unified/aggregate-collation.json", "Aggregate with collation", "JavaServer",
     kJavaCollation},
    {"crud/tests/unified/aggregate-let.json", "Aggregate to collection with let option", "FerretDB",
     kFerretLet},
    {"crud/tests/unified/aggregate-let.json", "Aggregate to collection with let option",
     "JavaServer", kJavaLet},
    {"crud/tests/unified/aggregate-let.json", "Aggregate with let option", "FerretDB", kFerretLet},
    {"crud/tests/unified/aggregate-let.json", "Aggregate with let option", "JavaServer", kJavaLet},
    {"crud/tests/unified/aggregate-merge-errorResponse.json",
     "aggregate $merge DuplicateKey error is accessible", "FerretDB", kFerretDatabaseAggregate},
    {"crud/tests/unified/aggregate-merge.json", "Aggregate with $merge and available readConcern",
     "FerretDB", kFerretOutMerge},
    {"crud/tests/unified/aggregate-merge.json", "Aggregate with $merge and batch size of 0",
     "FerretDB", kFerretOutMerge},
    {"crud/tests/unified/aggregate-merge.json", "Aggregate with $merge and local readConcern",
     "FerretDB", kFerretOutMerge},
    {"crud/tests/unified/aggregate-merge.json", "Aggregate with $merge and majority readConcern",
     "FerretDB", kFerretOutMerge},
    {"crud/tests/unified/aggregate-merge.json", "Aggregate with $merge", "FerretDB",
     kFerretOutMerge},
    {"crud/tests/unified/aggregate-out.json", "Aggregate with $out and batch size of 0", "FerretDB",
     kFerretOutMerge},
    {"crud/tests/unified/aggregate-out.json", "Aggregate with $out", "FerretDB", kFerretOutMerge},
    {"crud/tests/unified/aggregate.json", "aggregate with comment sets comment on getMore",
     "JavaServer", kJavaAggregateBatchSize},
    {"crud/tests/unified/aggregate.json", "aggregate with multiple batches works", "JavaServer",
     kJavaAggregateBatchSize},
    {"crud/tests/unified/bulkWrite-arrayFilters.json", "BulkWrite updateMany with arrayFilters",
     "FerretDB", kFerretArrayFilters},
    {"crud/tests/unified/bulkWrite-arrayFilters.json", "BulkWrite updateOne with arrayFilters",
     "FerretDB", kFerretArrayFilters},
    {"crud/tests/unified/bulkWrite-arrayFilters.json", "BulkWrite with arrayFilters", "FerretDB",
     kFerretArrayFilters},
    {"crud/tests/unified/bulkWrite-collation.json",
     "BulkWrite with delete operations and collation", "FerretDB", kFerretCollation},
    {"crud/tests/unified/bulkWrite-collation.json",
     "BulkWrite with delete operations and collation", "JavaServer", kJavaCollation},
    {"crud/tests/unified/bulkWrite-collation.json",
     "BulkWrite with update operations and collation", "FerretDB", kFerretCollation},
    {"crud/tests/unified/bulkWrite-collation.json",
     "BulkWrite with update operations and collation", "JavaServer", kJavaCollation},
    {"crud/tests/unified/bulkWrite-comment.json", "BulkWrite with document comment", "FerretDB",
     kFerretDocumentComment},
    {"crud/tests/unified/bulkWrite-deleteMany-let.json", "BulkWrite deleteMany with let option",
     "FerretDB", kFerretLet},
    {"crud/tests/unified/bulkWrite-deleteMany-let.json", "BulkWrite deleteMany with let option",
     "JavaServer", kJavaLet},
    {"crud/tests/unified/bulkWrite-deleteOne-let.json", "BulkWrite deleteOne with let option",
     "FerretDB", kFerretLet},
    {"crud/tests/unified/bulkWrite-deleteOne-let.json", "BulkWrite deleteOne with let option",
     "JavaServer", kJavaLet},
    {"crud/tests/unified/bulkWrite-insertOne-dots_and_dollars.json",
     "Inserting document with dollar-prefixed key in embedded doc", "FerretDB",
     kFerretDotsAndDollars},
    {"crud/tests/unified/bulkWrite-insertOne-dots_and_dollars.json",
     "Inserting document with dotted key in embedded doc", "FerretDB", kFerretDotsAndDollars},
    {"crud/tests/unified/bulkWrite-insertOne-dots_and_dollars.json",
     "Inserting document with top-level dollar-prefixed key on 5.0+ server", "FerretDB",
     kFerretDotsAndDollars},
    {"crud/tests/unified/bulkWrite-insertOne-dots_and_dollars.json",
     "Inserting document with top-level dotted key", "FerretDB", kFerretDotsAndDollars},
    {"crud/tests/unified/bulkWrite-replaceOne-dots_and_dollars.json",
     "Replacing document with dollar-prefixed key in embedded doc on 5.0+ server", "FerretDB",
     kFerretDotsAndDollars},
    {"crud/tests/unified/bulkWrite-replaceOne-dots_and_dollars.json",
     "Replacing document with dotted key in embedded doc on 3.6+ server", "FerretDB",
     kFerretDotsAndDollars},
    {"crud/tests/unified/bulkWrite-replaceOne-dots_and_dollars.json",
     "Replacing document with top-level dotted key on 3.6+ server", "FerretDB",
     kFerretDotsAndDollars},
    {"crud/tests/unified/bulkWrite-replaceOne-dots_and_dollars.json",
     "Replacing document with top-level dotted key on 3.6+ server", "JavaServer",
     kJavaDottedReplacement},
    {"crud/tests/unified/bulkWrite-replaceOne-let.json", "BulkWrite replaceOne with let option",
     "FerretDB", kFerretLet},
    {"crud/tests/unified/bulkWrite-replaceOne-let.json", "BulkWrite replaceOne with let option",
     "JavaServer", kJavaLet},
    {"crud/tests/unified/bulkWrite-updateMany-dots_and_dollars.json",
     "Updating document to set dollar-prefixed key in embedded doc on 5.0+ server", "FerretDB",
     kFerretPipelineUpdate},
    {"crud/tests/unified/bulkWrite-updateMany-dots_and_dollars.json",
     "Updating document to set dollar-prefixed key in embedded doc on 5.0+ server", "JavaServer",
     kJavaPipelineUpdate},
    {"crud/tests/unified/bulkWrite-updateMany-dots_and_dollars.json",
     "Updating document to set dotted key in embedded doc on 5.0+ server", "FerretDB",
     kFerretPipelineUpdate},
    {"crud/tests/unified/bulkWrite-updateMany-dots_and_dollars.json",
     "Updating document to set dotted key in embedded doc on 5.0+ server", "JavaServer",
     kJavaPipelineUpdate},
    {"crud/tests/unified/bulkWrite-updateMany-dots_and_dollars.json",
     "Updating document to set top-level dollar-prefixed key on 5.0+ server", "FerretDB",
     kFerretPipelineUpdate},
    {"crud/tests/unified/bulkWrite-updateMany-dots_and_dollars.json",
     "Updating document to set top-level dollar-prefixed key on 5.0+ server", "JavaServer",
     kJavaPipelineUpdate},
    {"crud/tests/unified/bulkWrite-updateMany-dots_and_dollars.json",
     "Updating document to set top-level dotted key on 5.0+ server", "FerretDB",
     kFerretPipelineUpdate},
    {"crud/tests/unified/bulkWrite-updateMany-dots_and_dollars.json",
     "Updating document to set top-level dotted key on 5.0+ server", "JavaServer",
     kJavaPipelineUpdate},
    {"crud/tests/unified/bulkWrite-updateMany-let.json", "BulkWrite updateMany with let option",
     "FerretDB", kFerretLet},
    {"crud/tests/unified/bulkWrite-updateMany-let.json", "BulkWrite updateMany with let option",
     "JavaServer", kJavaPipelineUpdate},
    {"crud/tests/unified/bulkWrite-updateMany-pipeline.json",
     "UpdateMany in bulk write using pipelines", "FerretDB", kFerretPipelineUpdate},
    {"crud/tests/unified/bulkWrite-updateMany-pipeline.json",
     "UpdateMany in bulk write using pipelines", "JavaServer", kJavaPipelineUpdate},
    {"crud/tests/unified/bulkWrite-updateOne-dots_and_dollars.json",
     "Updating document to set dollar-prefixed key in embedded doc on 5.0+ server", "FerretDB",
     kFerretPipelineUpdate},
    {"crud/tests/unified/bulkWrite-updateOne-dots_and_dollars.json",
     "Updating document to set dollar-prefixed key in embedded doc on 5.0+ server", "JavaServer",
     kJavaPipelineUpdate},
    {"crud/tests/unified/bulkWrite-updateOne-dots_and_dollars.json",
     "Updating document to set dotted key in embedded doc on 5.0+ server", "FerretDB",
     kFerretPipelineUpdate},
    {"crud/tests/unified/bulkWrite-updateOne-dots_and_dollars.json",
     "Updating document to set dotted key in embedded doc on 5.0+ server", "JavaServer",
     kJavaPipelineUpdate},
    {"crud/tests/unified/bulkWrite-updateOne-dots_and_dollars.json",
     "Updating document to set top-level dollar-prefixed key on 5.0+ server", "FerretDB",
     kFerretPipelineUpdate},
    {"crud/tests/unified/bulkWrite-updateOne-dots_and_dollars.json",
     "Updating document to set top-level dollar-prefixed key on 5.0+ server", "JavaServer",
     kJavaPipelineUpdate},
    {"crud/tests/unified/bulkWrite-updateOne-dots_and_dollars.json",
     "Updating document to set top-level dotted key on 5.0+ server", "FerretDB",
     kFerretPipelineUpdate},
    {"crud/tests/unified/bulkWrite-updateOne-dots_and_dollars.json",
     "Updating document to set top-level dotted key on 5.0+ server", "JavaServer",
     kJavaPipelineUpdate},
    {"crud/tests/unified/bulkWrite-updateOne-let.json", "BulkWrite updateOne with let option",
     "FerretDB", kFerretLet},
    {"crud/tests/unified/bulkWrite-updateOne-let.json", "BulkWrite updateOne with let option",
     "JavaServer", kJavaPipelineUpdate},
    {"crud/tests/unified/bulkWrite-updateOne-pipeline.json",
     "UpdateOne in bulk write using pipelines", "FerretDB", kFerretPipelineUpdate},
    {"crud/tests/unified/bulkWrite-updateOne-pipeline.json",
     "UpdateOne in bulk write using pipelines", "JavaServer", kJavaPipelineUpdate},
    {"crud/tests/unified/bulkWrite.json",
     "BulkWrite continue-on-error behavior with unordered (duplicate key in requests)",
     "JavaServer", kJavaUnorderedInsertCount},
    {"crud/tests/unified/bulkWrite.json",
     "BulkWrite continue-on-error behavior with unordered (preexisting duplicate key)",
     "JavaServer", kJavaUnorderedInsertCount},
    {"crud/tests/unified/distinct-collation.json", "Distinct with a collation", "FerretDB",
     kFerretCollation},
    {"crud/tests/unified/distinct-collation.json", "Distinct with a collation", "JavaServer",
     kJavaCollation},
    {"crud/tests/unified/findOneAndDelete-comment.json", "findOneAndDelete with document comment",
     "FerretDB", kFerretDocumentComment},
    {"crud/tests/unified/findOneAndDelete-hint-unacknowledged.json",
     "Unacknowledged findOneAndDelete with hint document on 4.4+ server", "JavaServer",
     kJavaHintUnacknowledged},
    {"crud/tests/unified/findOneAndDelete-hint-unacknowledged.json",
     "Unacknowledged findOneAndDelete with hint string on 4.4+ server", "JavaServer",
     kJavaHintUnacknowledged},
    {"crud/tests/unified/findOneAndDelete-let.json", "findOneAndDelete with let option", "FerretDB",
     kFerretLet},
    {"crud/tests/unified/findOneAndDelete-let.json", "findOneAndDelete with let option",
     "JavaServer", kJavaLet},
    {"crud/tests/unified/findOneAndDelete.json", "FindOneAndDelete when many documents match",
     "FerretDB", kFerretFindAndModifyFields},
    {"crud/tests/unified/findOneAndDelete.json", "FindOneAndDelete when no documents match",
     "FerretDB", kFerretFindAndModifyFields},
    {"crud/tests/unified/findOneAndDelete.json", "FindOneAndDelete when one document matches",
     "FerretDB", kFerretFindAndModifyFields},
    {"crud/tests/unified/findOneAndReplace-collation.json",
     "FindOneAndReplace when one document matches with collation returning the document after "
     "modification",
     "FerretDB", kFerretFindAndModifyFields},
    {"crud/tests/unified/findOneAndReplace-collation.json",
     "FindOneAndReplace when one document matches with collation returning the document after "
     "modification",
     "JavaServer", kJavaCollation},
    {"crud/tests/unified/findOneAndReplace-comment.json", "findOneAndReplace with document comment",
     "FerretDB", kFerretDocumentComment},
    {"crud/tests/unified/findOneAndReplace-hint-unacknowledged.json",
     "Unacknowledged findOneAndReplace with hint document on 4.4+ server", "JavaServer",
     kJavaHintUnacknowledged},
    {"crud/tests/unified/findOneAndReplace-hint-unacknowledged.json",
     "Unacknowledged findOneAndReplace with hint string on 4.4+ server", "JavaServer",
     kJavaHintUnacknowledged},
    {"crud/tests/unified/findOneAndReplace-upsert.json",
     "FindOneAndReplace when no documents match with id specified with upsert returning the "
     "document after modification",
     "FerretDB", kFerretFindAndModifyFields},
    {"crud/tests/unified/findOneAndReplace-upsert.json",
     "FindOneAndReplace when no documents match with id specified with upsert returning the "
     "document before modification",
     "FerretDB", kFerretFindAndModifyFields},
    {"crud/tests/unified/findOneAndReplace-upsert.json",
     "FindOneAndReplace when no documents match without id specified with upsert returning the "
     "document after modification",
     "FerretDB", kFerretFindAndModifyFields},
    {"crud/tests/unified/findOneAndReplace-upsert.json",
     "FindOneAndReplace when no documents match without id specified with upsert returning the "
     "document before modification",
     "FerretDB", kFerretFindAndModifyFields},
    {"crud/tests/unified/findOneAndUpdate-arrayFilters.json",
     "FindOneAndUpdate when multiple documents match arrayFilters", "FerretDB",
     kFerretArrayFilters},
    {"crud/tests/unified/findOneAndUpdate-arrayFilters.json",
     "FindOneAndUpdate when no document matches arrayFilters", "FerretDB", kFerretArrayFilters},
    {"crud/tests/unified/findOneAndUpdate-arrayFilters.json",
     "FindOneAndUpdate when one document matches arrayFilters", "FerretDB", kFerretArrayFilters},
    {"crud/tests/unified/findOneAndUpdate-collation.json",
     "FindOneAndUpdate when many documents match with collation returning the document before "
     "modification",
     "FerretDB", kFerretFindAndModifyFields},
    {"crud/tests/unified/findOneAndUpdate-collation.json",
     "FindOneAndUpdate when many documents match with collation returning the document before "
     "modification",
     "JavaServer", kJavaCollation},
    {"crud/tests/unified/findOneAndUpdate-comment.json", "findOneAndUpdate with document comment",
     "FerretDB", kFerretDocumentComment},
    {"crud/tests/unified/findOneAndUpdate-comment.json", "findOneAndUpdate with document comment",
     "JavaServer", kJavaPipelineUpdate},
    {"crud/tests/unified/findOneAndUpdate-comment.json", "findOneAndUpdate with string comment",
     "FerretDB", kFerretPipelineUpdate},
    {"crud/tests/unified/findOneAndUpdate-comment.json", "findOneAndUpdate with string comment",
     "JavaServer", kJavaPipelineUpdate},
    {"crud/tests/unified/findOneAndUpdate-dots_and_dollars.json",
     "Updating document to set dollar-prefixed key in embedded doc on 5.0+ server", "FerretDB",
     kFerretPipelineUpdate},
    {"crud/tests/unified/findOneAndUpdate-dots_and_dollars.json",
     "Updating document to set dollar-prefixed key in embedded doc on 5.0+ server", "JavaServer",
     kJavaPipelineUpdate},
    {"crud/tests/unified/findOneAndUpdate-dots_and_dollars.json",
     "Updating document to set dotted key in embedded doc on 5.0+ server", "FerretDB",
     kFerretPipelineUpdate},
    {"crud/tests/unified/findOneAndUpdate-dots_and_dollars.json",
     "Updating document to set dotted key in embedded doc on 5.0+ server", "JavaServer",
     kJavaPipelineUpdate},
    {"crud/tests/unified/findOneAndUpdate-dots_and_dollars.json",
     "Updating document to set top-level dollar-prefixed key on 5.0+ server", "FerretDB",
     kFerretPipelineUpdate},
    {"crud/tests/unified/findOneAndUpdate-dots_and_dollars.json",
     "Updating document to set top-level dollar-prefixed key on 5.0+ server", "JavaServer",
     kJavaPipelineUpdate},
    {"crud/tests/unified/findOneAndUpdate-dots_and_dollars.json",
     "Updating document to set top-level dotted key on 5.0+ server", "FerretDB",
     kFerretPipelineUpdate},
    {"crud/tests/unified/findOneAndUpdate-dots_and_dollars.json",
     "Updating document to set top-level dotted key on 5.0+ server", "JavaServer",
     kJavaPipelineUpdate},
    {"crud/tests/unified/findOneAndUpdate-errorResponse.json",
     "findOneAndUpdate DuplicateKey error is accessible", "FerretDB",
     kNoKeyPatternInDuplicateKeyError},
    {"crud/tests/unified/findOneAndUpdate-errorResponse.json",
     "findOneAndUpdate DuplicateKey error is accessible", "JavaServer",
     kNoKeyPatternInDuplicateKeyError},
    {"crud/tests/unified/findOneAndUpdate-hint-unacknowledged.json",
     "Unacknowledged findOneAndUpdate with hint document on 4.4+ server", "JavaServer",
     kJavaHintUnacknowledged},
    {"crud/tests/unified/findOneAndUpdate-hint-unacknowledged.json",
     "Unacknowledged findOneAndUpdate with hint string on 4.4+ server", "JavaServer",
     kJavaHintUnacknowledged},
    {"crud/tests/unified/findOneAndUpdate-let.json", "findOneAndUpdate with let option", "FerretDB",
     kFerretLet},
    {"crud/tests/unified/findOneAndUpdate-let.json", "findOneAndUpdate with let option",
     "JavaServer", kJavaLet},
    {"crud/tests/unified/findOneAndUpdate-pipeline.json", "FindOneAndUpdate using pipelines",
     "FerretDB", kFerretPipelineUpdate},
    {"crud/tests/unified/findOneAndUpdate-pipeline.json", "FindOneAndUpdate using pipelines",
     "JavaServer", kJavaPipelineUpdate},
    {"crud/tests/unified/findOneAndUpdate.json",
     "FindOneAndUpdate when many documents match returning the document after modification",
     "FerretDB", kFerretFindAndModifyFields},
    {"crud/tests/unified/findOneAndUpdate.json",
     "FindOneAndUpdate when many documents match returning the document before modification",
     "FerretDB", kFerretFindAndModifyFields},
    {"crud/tests/unified/findOneAndUpdate.json",
     "FindOneAndUpdate when no documents match returning the document after modification",
     "FerretDB", kFerretFindAndModifyFields},
    {"crud/tests/unified/findOneAndUpdate.json",
     "FindOneAndUpdate when no documents match returning the document before modification",
     "FerretDB", kFerretFindAndModifyFields},
    {"crud/tests/unified/findOneAndUpdate.json",
     "FindOneAndUpdate when no documents match with upsert returning the document after "
     "modification",
     "FerretDB", kFerretFindAndModifyFields},
    {"crud/tests/unified/findOneAndUpdate.json",
     "FindOneAndUpdate when no documents match with upsert returning the document before "
     "modification",
     "FerretDB", kFerretFindAndModifyFields},
    {"crud/tests/unified/findOneAndUpdate.json",
     "FindOneAndUpdate when one document matches returning the document after modification",
     "FerretDB", kFerretFindAndModifyFields},
    {"crud/tests/unified/findOneAndUpdate.json",
     "FindOneAndUpdate when one document matches returning the document before modification",
     "FerretDB", kFerretFindAndModifyFields},
    {"crud/tests/unified/insertMany.json",
     "InsertMany continue-on-error behavior with unordered (duplicate key in requests)",
     "JavaServer", kJavaUnorderedInsertCount},
    {"crud/tests/unified/insertMany.json",
     "InsertMany continue-on-error behavior with unordered (preexisting duplicate key)",
     "JavaServer", kJavaUnorderedInsertCount},
    {"unified-test-format/tests/valid-pass/collectionData-createOptions.json",
     "collection is created with the correct options", "FerretDB", kFerretCollStatsCloses},
    {"unified-test-format/tests/valid-pass/poc-crud.json", "Aggregate with $listLocalSessions",
     "FerretDB", kFerretDatabaseAggregate},
    {"unified-test-format/tests/valid-pass/poc-crud.json", "Aggregate with $listLocalSessions",
     "JavaServer", kJavaDatabaseAggregate},
    {"unified-test-format/tests/valid-pass/poc-crud.json",
     "InsertMany continue-on-error behavior with unordered (duplicate key in requests)",
     "JavaServer", kJavaUnorderedInsertCount},
    {"crud/tests/unified/find-collation.json", "Find with a collation", "FerretDB",
     kFerretCollation},
    {"crud/tests/unified/find-collation.json", "Find with a collation", "JavaServer",
     kJavaCollation},
    {"crud/tests/unified/find-comment.json", "find with document comment", "FerretDB",
     kFerretDocumentComment},
    {"crud/tests/unified/find-comment.json", "find with comment sets comment on getMore",
     "FerretDB", kFerretDocumentComment},
    {"crud/tests/unified/find-comment.json", "find with comment sets comment on getMore",
     "JavaServer", kJavaGetMoreComment},
    {"crud/tests/unified/find-let.json", "Find with let option", "FerretDB", kFerretLet},
    {"crud/tests/unified/find-let.json", "Find with let option", "JavaServer", kJavaLet},
    {"crud/tests/unified/bulkWrite.json", "BulkWrite with replaceOne operations", "FerretDB",
     kFerretUpsertedIndex},
    {"crud/tests/unified/bulkWrite.json", "BulkWrite with updateOne operations", "FerretDB",
     kFerretUpsertedIndex},
    {"crud/tests/unified/bulkWrite.json", "BulkWrite with updateMany operations", "FerretDB",
     kFerretUpsertedIndex},
};

struct NamedReason {
  std::string_view name;
  std::string_view reason;
};

// Operations the unified format defines that are not run here. Operations mongoslice declares
// but whose implementation is not committed yet are marked "not built in mongoslice yet": they
// move to operations.cpp's table when they land (the runner must link at every commit).
inline const std::vector<NamedReason> kNotBuiltOperations = {
    // testRunner operations
    {"failPoint",
     "failPoint: the suite's servers (FerretDB, mongo-java-server) have no failpoints"},
    {"targetedFailPoint", "targetedFailPoint: no failpoints, no mongos pinning"},
    {"assertSessionTransactionState", "sessions and transactions are not built in mongoslice"},
    {"assertSessionPinned", "sessions are not built in mongoslice"},
    {"assertSessionUnpinned", "sessions are not built in mongoslice"},
    {"assertSessionDirty", "sessions are not built in mongoslice"},
    {"assertSessionNotDirty", "sessions are not built in mongoslice"},
    {"assertSameLsidOnLastTwoCommands", "sessions (lsid) are not built in mongoslice"},
    {"assertDifferentLsidOnLastTwoCommands", "sessions (lsid) are not built in mongoslice"},
    {"assertNumberConnectionsCheckedOut",
     "mongoslice does not expose the number of checked-out connections"},
    {"runOnThread", "thread entities are not built in this runner"},
    {"waitForThread", "thread entities are not built in this runner"},
    {"waitForEvent", "waitForEvent: CMAP/SDAM event expectations are not built in this runner"},
    {"assertEventCount",
     "assertEventCount: CMAP/SDAM event expectations are not built in this runner"},
    {"waitForPrimaryChange", "replica sets: the suite's servers are standalone"},
    {"wait", "wait: timing-based tests are not run"},
    {"loop", "loop: the astrolabe loop operation is not built"},
    // sessions and transactions
    {"startTransaction", "transactions are not built in mongoslice"},
    {"commitTransaction", "transactions are not built in mongoslice"},
    {"abortTransaction", "transactions are not built in mongoslice"},
    {"withTransaction", "transactions are not built in mongoslice"},
    {"endSession", "sessions are not built in mongoslice"},
    // change streams, GridFS, encryption, client bulk write
    {"createChangeStream", "change streams are not built in mongoslice"},
    {"clientBulkWrite",
     "the client-level bulkWrite command (MongoDB 8.0) is not built in mongoslice"},
    {"delete", "GridFS is not built in mongoslice"},
    {"download", "GridFS is not built in mongoslice"},
    {"downloadByName", "GridFS is not built in mongoslice"},
    {"upload", "GridFS is not built in mongoslice"},
    {"rename", "GridFS rename / collection rename is not mapped in this runner"},
    {"modifyCollection", "collMod (modifyCollection) is not built in mongoslice"},
    {"count",
     "the deprecated count helper is not in mongoslice's API (estimated_document_count "
     "and count_documents are)"},
    {"watch", "change streams are not built in mongoslice"},
    {"listCollectionObjects", "listCollectionObjects is not in mongoslice's API"},
    {"listDatabaseObjects", "listDatabaseObjects is not in mongoslice's API"},
    {"listIndexNames", "listIndexNames is not in mongoslice's API"},
    {"createSearchIndex", "search indexes are not built in mongoslice"},
    {"createSearchIndexes", "search indexes are not built in mongoslice"},
    {"dropSearchIndex", "search indexes are not built in mongoslice"},
    {"listSearchIndexes", "search indexes are not built in mongoslice"},
    {"updateSearchIndex", "search indexes are not built in mongoslice"},
    {"createDataKey", "client-side encryption is not built in mongoslice"},
    {"rewrapManyDataKey", "client-side encryption is not built in mongoslice"},
    {"deleteKey", "client-side encryption is not built in mongoslice"},
    {"getKey", "client-side encryption is not built in mongoslice"},
    {"getKeys", "client-side encryption is not built in mongoslice"},
    {"addKeyAltName", "client-side encryption is not built in mongoslice"},
    {"removeKeyAltName", "client-side encryption is not built in mongoslice"},
    {"getKeyByAltName", "client-side encryption is not built in mongoslice"},
    {"encrypt", "client-side encryption is not built in mongoslice"},
    {"decrypt", "client-side encryption is not built in mongoslice"},
};

// Entity types of the format that are not built. A test that uses one is skipped; the entity's
// references (its client or database) are still checked, so a malformed file still fails.
inline const std::vector<NamedReason> kNotBuiltEntities = {
    {"session", "sessions are not built in mongoslice"},
    {"bucket", "GridFS is not built in mongoslice"},
    {"clientEncryption", "client-side encryption is not built in mongoslice"},
    {"thread", "thread entities are not built in this runner"},
    {"stream", "GridFS streams are not built in mongoslice"},
};

// Client entity options that are not built. A client entity using one is created as
// "not built": a test that uses the client is skipped with this reason.
inline const std::vector<NamedReason> kNotBuiltClientOptions = {
    {"serverApi", "the Stable API (serverApi: apiVersion, apiStrict) is not built in mongoslice"},
    {"storeEventsAsEntities", "storeEventsAsEntities is not built in this runner"},
    {"observeLogMessages", "log message expectations are not built in this runner"},
    {"observeTracingMessages", "tracing is not built in mongoslice"},
    {"autoEncryptOpts", "client-side encryption is not built in mongoslice"},
    {"awaitMinPoolSizeMS", "minPoolSize waiting is not built in this runner"},
};

// Test-level keys and event types that are not built.
inline const std::vector<NamedReason> kNotBuiltExpectations = {
    {"expectLogMessages", "log message expectations are not built in this runner"},
    {"expectTracingMessages", "tracing is not built in mongoslice"},
    {"eventType:cmap", "CMAP event expectations are not built in this runner"},
    {"eventType:sdam", "SDAM event expectations are not built in this runner"},
    {"hasServerConnectionId",
     "mongoslice's command events do not carry the server's connection id"},
    {"errorLabelsContain:BulkWriteError", "mongoslice's BulkWriteError carries no error labels"},
    {"errorCodeName:BulkWriteError", "mongoslice's BulkWriteError carries no codeName"},
    {"writeErrors", "writeErrors expectations belong to clientBulkWrite, not built"},
    {"writeConcernErrors", "writeConcernErrors expectations belong to clientBulkWrite, not built"},
    {"isTimeoutError", "client-side operation timeouts (CSOT) are not built in mongoslice"},
};

// The reason of `name` in `table`, or empty.
inline std::string_view reason_in(const std::vector<NamedReason>& table, std::string_view name) {
  for (const auto& r : table) {
    if (r.name == name) return r.reason;
  }
  return {};
}

}  // namespace mongoslice::unified
