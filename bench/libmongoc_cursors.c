/* libmongoc's side of bench/cursor_compare.sh; prints the same "metric value" lines as
 * bench/client_cursors.cpp (see there). mongoc_cursor_destroy of a live cursor sends killCursors
 * and waits for the reply, so its "destruction" is a network round trip.
 *
 *   bench_libmongoc_cursors FERRETDB_URI DB COLL MOCK_URI
 */
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static int counting = 0;
static long long allocations = 0;

static void* count_malloc(size_t n) {
  if (counting) ++allocations;
  return malloc(n);
}
static void* count_calloc(size_t n, size_t size) {
  if (counting) ++allocations;
  return calloc(n, size);
}
static void* count_realloc(void* p, size_t n) {
  if (counting) ++allocations;
  return realloc(p, n);
}
static void count_free(void* p) {
  free(p);
}

static long long monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double cpu_seconds(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec +
         u.ru_stime.tv_usec / 1e6;
}

static int cmp_ll(const void* a, const void* b) {
  long long x = *(const long long*)a, y = *(const long long*)b;
  return (x > y) - (x < y);
}

static mongoc_cursor_t* live_cursor(mongoc_collection_t* coll, int batch_size) {
  bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
  const bson_t* doc;
  mongoc_cursor_t* cursor;
  if (batch_size > 0) BSON_APPEND_INT32(&opts, "batchSize", batch_size);
  cursor = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
  if (!mongoc_cursor_next(cursor, &doc)) {
    bson_error_t error;
    if (mongoc_cursor_error(cursor, &error)) fprintf(stderr, "find: %s\n", error.message);
  }
  bson_destroy(&filter);
  bson_destroy(&opts);
  return cursor;
}

int main(int argc, char** argv) {
  bson_mem_vtable_t vtable = {
      .malloc = count_malloc, .calloc = count_calloc, .realloc = count_realloc, .free = count_free};
  if (argc != 5) {
    fprintf(stderr, "usage: %s FERRETDB_URI DB COLL MOCK_URI\n", argv[0]);
    return 2;
  }
  bson_mem_set_vtable(&vtable);
  mongoc_init();

  mongoc_client_t* client = mongoc_client_new(argv[1]);
  mongoc_collection_t* coll = mongoc_client_get_collection(client, argv[2], argv[3]);

  /* (1) Destruction of live cursors, in rounds (FerretDB's SQLite backend blocks beyond ~100
   * open cursors; libmongoc's kills are synchronous, so a round leaves none open). */
  {
    enum { kRounds = 20, kRound = 25 };
    static long long ns[kRounds * kRound];
    mongoc_cursor_t* cursors[kRound];
    long long allocs = 0;
    int n = 0;
    for (int round = 0; round < kRounds; ++round) {
      for (int i = 0; i < kRound; ++i) cursors[i] = live_cursor(coll, 1);
      for (int i = 0; i < kRound; ++i) {
        allocations = 0;
        counting = 1;
        long long start = monotonic_ns();
        mongoc_cursor_destroy(cursors[i]);
        ns[n++] = monotonic_ns() - start;
        counting = 0;
        allocs += allocations;
      }
    }
    qsort(ns, n, sizeof ns[0], cmp_ll);
    printf("destroy_median_ns %lld\n", ns[n / 2]);
    printf("destroy_allocs %.3f\n", (double)allocs / n);
  }

  /* (2) Kill latency at the mock server's clock. */
  {
    enum { kTrials = 40 };
    long long ids[kTrials], t0[kTrials];
    mongoc_client_t* mock = mongoc_client_new(argv[4]);
    mongoc_collection_t* mock_coll = mongoc_client_get_collection(mock, "bench", "latency");
    bson_t cmd, reply;
    bson_error_t error;
    bson_init(&cmd);
    BSON_APPEND_INT32(&cmd, "mockReset", 1);
    mongoc_client_command_simple(mock, "admin", &cmd, NULL, NULL, &error);
    bson_destroy(&cmd);
    for (int i = 0; i < kTrials; ++i) {
      mongoc_cursor_t* c = live_cursor(mock_coll, 0);
      ids[i] = mongoc_cursor_get_id(c);
      t0[i] = monotonic_ns();
      mongoc_cursor_destroy(c);
    }
    bson_init(&cmd);
    BSON_APPEND_INT32(&cmd, "mockKills", 1);
    long long ms_x1000[kTrials];
    int n = 0;
    if (mongoc_client_command_simple(mock, "admin", &cmd, NULL, &reply, &error)) {
      bson_iter_t it, kills, kill, cursors;
      if (bson_iter_init_find(&it, &reply, "kills") && bson_iter_recurse(&it, &kills)) {
        while (bson_iter_next(&kills)) {
          bson_iter_recurse(&kills, &kill);
          long long t = 0, id = 0;
          bson_iter_t k2;
          bson_iter_recurse(&kills, &k2);
          if (bson_iter_find(&k2, "t")) t = bson_iter_as_int64(&k2);
          if (bson_iter_find(&kill, "cursors") && bson_iter_recurse(&kill, &cursors) &&
              bson_iter_next(&cursors)) {
            id = bson_iter_as_int64(&cursors);
          }
          for (int i = 0; i < kTrials; ++i) {
            if (ids[i] == id && n < kTrials) ms_x1000[n++] = (t - t0[i]) / 1000;
          }
        }
      }
      bson_destroy(&reply);
    } else {
      fprintf(stderr, "mockKills: %s\n", error.message);
    }
    bson_destroy(&cmd);
    qsort(ms_x1000, n, sizeof ms_x1000[0], cmp_ll);
    printf("kill_latency_median_ms %.3f\n", n ? ms_x1000[n / 2] / 1000.0 : -1.0);
    printf("kill_latency_samples %d\n", n);
    mongoc_collection_destroy(mock_coll);
    mongoc_client_destroy(mock);
  }

  /* (3) Iteration CPU per document. */
  {
    double before = cpu_seconds();
    long long docs = 0;
    const bson_t* doc;
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    BSON_APPEND_INT32(&opts, "batchSize", 1000);
    mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
    while (mongoc_cursor_next(cursor, &doc)) ++docs;
    mongoc_cursor_destroy(cursor);
    bson_destroy(&filter);
    bson_destroy(&opts);
    double cpu = cpu_seconds() - before;
    printf("iterate_docs %lld\n", docs);
    printf("iterate_cpu_ns_per_doc %.1f\n", docs ? cpu * 1e9 / docs : 0.0);
  }

  mongoc_collection_destroy(coll);
  mongoc_client_destroy(client);
  mongoc_cleanup();
  return 0;
}
