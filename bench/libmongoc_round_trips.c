/* libmongoc's side of bench/round_trips_compare.sh; the same operations and "metric value" lines
 * as bench/client_round_trips.cpp (see there). libmongoc has no find_one: it is
 * mongoc_collection_find_with_opts with {limit: 1, singleBatch: true} (what PyMongo's find_one and
 * ours send) and one mongoc_cursor_next.
 *
 *   bench_libmongoc_round_trips URI DB COLL OPS KEYS [WARMUP]
 */
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static long long ns_of(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long process_cpu_ns(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return ((long long)u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000000000LL +
         ((long long)u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1000LL;
}

typedef struct {
  mongoc_collection_t* coll;
  bson_t inc;       /* {$inc: {n: 1}} */
  bson_t find_opts; /* {limit: 1, singleBatch: true} */
} context_t;

/* Each returns 1 when the operation matched (found) its document. */
static int update_one(context_t* ctx, int k) {
  bson_t filter, reply;
  bson_error_t error;
  bson_iter_t it;
  int matched = 0;
  bson_init(&filter);
  BSON_APPEND_INT32(&filter, "_id", k);
  if (mongoc_collection_update_one(ctx->coll, &filter, &ctx->inc, NULL, &reply, &error)) {
    matched = bson_iter_init_find(&it, &reply, "matchedCount") && bson_iter_as_int64(&it) == 1;
  } else {
    fprintf(stderr, "update_one: %s\n", error.message);
  }
  bson_destroy(&reply);
  bson_destroy(&filter);
  return matched;
}

static int find_one(context_t* ctx, int k) {
  bson_t filter;
  const bson_t* doc;
  bson_error_t error;
  int found;
  bson_init(&filter);
  BSON_APPEND_INT32(&filter, "_id", k);
  mongoc_cursor_t* cursor =
      mongoc_collection_find_with_opts(ctx->coll, &filter, &ctx->find_opts, NULL);
  found = mongoc_cursor_next(cursor, &doc);
  if (!found && mongoc_cursor_error(cursor, &error)) fprintf(stderr, "find: %s\n", error.message);
  mongoc_cursor_destroy(cursor);
  bson_destroy(&filter);
  return found;
}

static int measure(const char* kind, int (*op)(context_t*, int), context_t* ctx, long ops,
                   long keys, long warmup) {
  long failures = 0, i;
  for (i = 0; i < warmup; ++i) failures += !op(ctx, (int)(i % keys));
  long long process = process_cpu_ns(), thread = ns_of(CLOCK_THREAD_CPUTIME_ID),
            wall = ns_of(CLOCK_MONOTONIC);
  for (i = 0; i < ops; ++i) failures += !op(ctx, (int)(i % keys));
  process = process_cpu_ns() - process;
  thread = ns_of(CLOCK_THREAD_CPUTIME_ID) - thread;
  wall = ns_of(CLOCK_MONOTONIC) - wall;
  printf("%s_cpu_ns_per_op %.1f\n", kind, (double)process / ops);
  printf("%s_thread_cpu_ns_per_op %.1f\n", kind, (double)thread / ops);
  printf("%s_wall_ns_per_op %.1f\n", kind, (double)wall / ops);
  printf("%s_ops %ld\n", kind, ops);
  if (failures) fprintf(stderr, "%s: %ld operations missed their document\n", kind, failures);
  return failures == 0;
}

int main(int argc, char** argv) {
  if (argc != 6 && argc != 7) {
    fprintf(stderr, "usage: %s URI DB COLL OPS KEYS [WARMUP]\n", argv[0]);
    return 2;
  }
  long ops = strtol(argv[4], NULL, 10), keys = strtol(argv[5], NULL, 10);
  long warmup = argc == 7 ? strtol(argv[6], NULL, 10) : 100;
  if (ops <= 0 || ops > 1000000 || keys <= 0 || keys > 1000000000 || warmup < 0) {
    fprintf(stderr, "OPS must be in 1..1000000, KEYS > 0, WARMUP >= 0\n");
    return 2;
  }
  mongoc_init();
  mongoc_client_t* client = mongoc_client_new(argv[1]);
  if (!client) {
    fprintf(stderr, "invalid URI %s\n", argv[1]);
    return 2;
  }
  context_t ctx;
  ctx.coll = mongoc_client_get_collection(client, argv[2], argv[3]);
  bson_t n;
  bson_init(&ctx.inc);
  BSON_APPEND_DOCUMENT_BEGIN(&ctx.inc, "$inc", &n);
  BSON_APPEND_INT32(&n, "n", 1);
  bson_append_document_end(&ctx.inc, &n);
  bson_init(&ctx.find_opts);
  BSON_APPEND_INT64(&ctx.find_opts, "limit", 1);
  BSON_APPEND_BOOL(&ctx.find_opts, "singleBatch", true);

  int ok = measure("update_one", update_one, &ctx, ops, keys, warmup);
  ok &= measure("find_one", find_one, &ctx, ops, keys, warmup);

  bson_destroy(&ctx.inc);
  bson_destroy(&ctx.find_opts);
  mongoc_collection_destroy(ctx.coll);
  mongoc_client_destroy(client);
  mongoc_cleanup();
  return ok ? 0 : 1;
}
