/* libmongoc's side of DriverBench: the same tasks, the same way, and the same command line and
 * output as mongoslice_driverbench.cpp (see there and bench/driverbench/README.md).
 *
 *   bench_libmongoc_driverbench URI DATA_DIR ITERATIONS SEED SCALE LDJSON_FILES TASK...
 *
 * BSON decode is bson_validate with BSON_VALIDATE_UTF8 (the check mongoslice's
 * Document::from_bytes makes) on a copy of the bytes, then a visit of every element; encode
 * builds the document value by value with bson_append_*. */
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static unsigned long long sink = 0;

typedef struct {
  const char* uri;
  const char* data;
  int iterations;
  int seed;
  int scale;
  int ldjson_files;
} config_t;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_s(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec * 1e-6 + u.ru_stime.tv_sec +
         u.ru_stime.tv_usec * 1e-6;
}

static char* read_file(const char* path, size_t* length) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char* text = malloc((size_t)n + 1);
  size_t got = fread(text, 1, (size_t)n, f);
  fclose(f);
  text[got] = 0;
  if (length) *length = got;
  return text;
}

static bson_t* from_json_file(const config_t* c, const char* dir, const char* name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s/%s", c->data, dir, name);
  size_t n = 0;
  char* text = read_file(path, &n);
  if (!text) return NULL;
  bson_error_t error;
  bson_t* doc = bson_new_from_json((const uint8_t*)text, (ssize_t)n, &error);
  if (!doc) fprintf(stderr, "%s: %s\n", path, error.message);
  free(text);
  return doc;
}

static void visit(bson_iter_t* it) {
  while (bson_iter_next(it)) {
    sink += strlen(bson_iter_key(it));
    bson_iter_t child;
    uint32_t len = 0;
    switch (bson_iter_type(it)) {
      case BSON_TYPE_DOUBLE:
        sink += (unsigned long long)bson_iter_double(it);
        break;
      case BSON_TYPE_UTF8:
        bson_iter_utf8(it, &len);
        sink += len;
        break;
      case BSON_TYPE_DOCUMENT:
      case BSON_TYPE_ARRAY:
        if (bson_iter_recurse(it, &child)) visit(&child);
        break;
      case BSON_TYPE_BINARY: {
        bson_subtype_t subtype;
        const uint8_t* bytes;
        bson_iter_binary(it, &subtype, &len, &bytes);
        sink += len;
        break;
      }
      case BSON_TYPE_OID:
        sink += bson_iter_oid(it)->bytes[0];
        break;
      case BSON_TYPE_BOOL:
        sink += bson_iter_bool(it);
        break;
      case BSON_TYPE_DATE_TIME:
        sink += (unsigned long long)bson_iter_date_time(it) & 1;
        break;
      case BSON_TYPE_REGEX: {
        const char* options;
        sink += strlen(bson_iter_regex(it, &options));
        break;
      }
      case BSON_TYPE_CODE:
        bson_iter_code(it, &len);
        sink += len;
        break;
      case BSON_TYPE_CODEWSCOPE: {
        uint32_t scope_len = 0;
        const uint8_t* scope;
        bson_iter_codewscope(it, &len, &scope_len, &scope);
        sink += len;
        bson_t s;
        if (bson_init_static(&s, scope, scope_len) && bson_iter_init(&child, &s)) visit(&child);
        break;
      }
      case BSON_TYPE_INT32:
        sink += (unsigned long long)bson_iter_int32(it);
        break;
      case BSON_TYPE_TIMESTAMP: {
        uint32_t t, i;
        bson_iter_timestamp(it, &t, &i);
        sink += i;
        break;
      }
      case BSON_TYPE_INT64:
        sink += (unsigned long long)bson_iter_int64(it);
        break;
      case BSON_TYPE_DECIMAL128: {
        bson_decimal128_t d;
        bson_iter_decimal128(it, &d);
        sink += d.low & 1U;
        break;
      }
      default:
        sink += 1;
        break;
    }
  }
}

/* Appends every element of `it` to `out` value by value. */
static void encode_into(bson_t* out, bson_iter_t* it) {
  while (bson_iter_next(it)) {
    const char* key = bson_iter_key(it);
    bson_iter_t child;
    bson_t sub;
    uint32_t len = 0;
    switch (bson_iter_type(it)) {
      case BSON_TYPE_DOUBLE:
        bson_append_double(out, key, -1, bson_iter_double(it));
        break;
      case BSON_TYPE_UTF8: {
        const char* s = bson_iter_utf8(it, &len);
        bson_append_utf8(out, key, -1, s, (int)len);
        break;
      }
      case BSON_TYPE_DOCUMENT:
        bson_append_document_begin(out, key, -1, &sub);
        if (bson_iter_recurse(it, &child)) encode_into(&sub, &child);
        bson_append_document_end(out, &sub);
        break;
      case BSON_TYPE_ARRAY:
        bson_append_array_begin(out, key, -1, &sub);
        if (bson_iter_recurse(it, &child)) encode_into(&sub, &child);
        bson_append_array_end(out, &sub);
        break;
      case BSON_TYPE_BINARY: {
        bson_subtype_t subtype;
        const uint8_t* bytes;
        bson_iter_binary(it, &subtype, &len, &bytes);
        bson_append_binary(out, key, -1, subtype, bytes, len);
        break;
      }
      case BSON_TYPE_OID:
        bson_append_oid(out, key, -1, bson_iter_oid(it));
        break;
      case BSON_TYPE_BOOL:
        bson_append_bool(out, key, -1, bson_iter_bool(it));
        break;
      case BSON_TYPE_DATE_TIME:
        bson_append_date_time(out, key, -1, bson_iter_date_time(it));
        break;
      case BSON_TYPE_NULL:
        bson_append_null(out, key, -1);
        break;
      case BSON_TYPE_REGEX: {
        const char* options;
        const char* pattern = bson_iter_regex(it, &options);
        bson_append_regex(out, key, -1, pattern, options);
        break;
      }
      case BSON_TYPE_CODE:
        bson_append_code(out, key, -1, bson_iter_code(it, &len));
        break;
      case BSON_TYPE_CODEWSCOPE: {
        uint32_t scope_len = 0;
        const uint8_t* scope_bytes;
        const char* code = bson_iter_codewscope(it, &len, &scope_len, &scope_bytes);
        bson_t scope;
        bson_init_static(&scope, scope_bytes, scope_len);
        bson_append_code_with_scope(out, key, -1, code, &scope);
        break;
      }
      case BSON_TYPE_INT32:
        bson_append_int32(out, key, -1, bson_iter_int32(it));
        break;
      case BSON_TYPE_TIMESTAMP: {
        uint32_t t, i;
        bson_iter_timestamp(it, &t, &i);
        bson_append_timestamp(out, key, -1, t, i);
        break;
      }
      case BSON_TYPE_INT64:
        bson_append_int64(out, key, -1, bson_iter_int64(it));
        break;
      case BSON_TYPE_DECIMAL128: {
        bson_decimal128_t d;
        bson_iter_decimal128(it, &d);
        bson_append_decimal128(out, key, -1, &d);
        break;
      }
      case BSON_TYPE_MINKEY:
        bson_append_minkey(out, key, -1);
        break;
      case BSON_TYPE_MAXKEY:
        bson_append_maxkey(out, key, -1);
        break;
      default:
        bson_append_iter(out, key, -1, it);
        break;
    }
  }
}

/* The task being measured: the body of one iteration; returns 0 on success, or fills error. */
typedef int (*task_fn)(void* ctx, char* error, size_t error_size);
typedef void (*before_fn)(void* ctx);

static void measure(const char* name, const config_t* c, long ops, task_fn task, before_fn before,
                    void* ctx) {
  double* wall = calloc((size_t)c->iterations, sizeof(double));
  double cpu = 0;
  char error[512] = "";
  int n = 0;
  for (; n < c->iterations; ++n) {
    if (before) before(ctx);
    double cpu0 = cpu_s(), t0 = now_s();
    if (task(ctx, error, sizeof error) != 0) break;
    wall[n] = now_s() - t0;
    cpu += cpu_s() - cpu0;
  }
  if (error[0]) {
    for (char* p = error; *p; ++p) {
      if (*p == '\n') *p = ' ';
    }
    printf("%s error=%s\n", name, error);
  } else {
    printf("%s wall=", name);
    for (int i = 0; i < n; ++i) printf("%s%.9f", i ? "," : "", wall[i]);
    printf(" cpu=%.6f ops=%ld\n", cpu, ops);
  }
  fflush(stdout);
  free(wall);
}

typedef struct {
  const config_t* config;
  bson_t* doc;
  mongoc_client_t* client;
  mongoc_database_t* db;
  mongoc_collection_t* coll;
  long ops;
  char export_dir[256];
} ctx_t;

static int bson_encode_task(void* p, char* error, size_t size) {
  ctx_t* x = p;
  (void)error, (void)size;
  for (long i = 0; i < x->ops; ++i) {
    bson_t out;
    bson_iter_t it;
    bson_init(&out);
    bson_iter_init(&it, x->doc);
    encode_into(&out, &it);
    sink += out.len;
    bson_destroy(&out);
  }
  return 0;
}

static int bson_decode_task(void* p, char* error, size_t size) {
  ctx_t* x = p;
  for (long i = 0; i < x->ops; ++i) {
    bson_t* copy = bson_new_from_data(bson_get_data(x->doc), x->doc->len);
    size_t offset;
    bson_iter_t it;
    if (!copy || !bson_validate(copy, BSON_VALIDATE_UTF8, &offset) || !bson_iter_init(&it, copy)) {
      snprintf(error, size, "invalid BSON");
      bson_destroy(copy);
      return 1;
    }
    visit(&it);
    bson_destroy(copy);
  }
  return 0;
}

static int check(bool ok, const bson_error_t* e, char* error, size_t size) {
  if (ok) return 0;
  snprintf(error, size, "%s", e->message);
  return 1;
}

static int run_command_task(void* p, char* error, size_t size) {
  ctx_t* x = p;
  bson_t* hello = BCON_NEW("hello", BCON_BOOL(true));
  int status = 0;
  for (long i = 0; i < x->ops && status == 0; ++i) {
    bson_t reply;
    bson_error_t e;
    status = check(mongoc_client_command_simple(x->client, "admin", hello, NULL, &reply, &e), &e,
                   error, size);
    sink += reply.len;
    bson_destroy(&reply);
  }
  bson_destroy(hello);
  return status;
}

/* libmongoc has no find_one: find with {limit: 1, singleBatch: true} and one cursor_next, the
 * command mongoslice's find_one and PyMongo's send. */
static int find_one_task(void* p, char* error, size_t size) {
  ctx_t* x = p;
  bson_t* opts = BCON_NEW("limit", BCON_INT64(1), "singleBatch", BCON_BOOL(true));
  int status = 0;
  for (long i = 1; i <= x->ops && status == 0; ++i) {
    bson_t filter;
    bson_init(&filter);
    BSON_APPEND_INT32(&filter, "_id", (int32_t)i);
    mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(x->coll, &filter, opts, NULL);
    const bson_t* doc;
    bson_error_t e;
    if (mongoc_cursor_next(cursor, &doc)) {
      sink += doc->len;
    } else if (mongoc_cursor_error(cursor, &e)) {
      status = check(false, &e, error, size);
    } else {
      snprintf(error, size, "find_one: no document with _id %ld", i);
      status = 1;
    }
    mongoc_cursor_destroy(cursor);
    bson_destroy(&filter);
  }
  bson_destroy(opts);
  return status;
}

static void fresh_collection(void* p) {
  ctx_t* x = p;
  bson_error_t e;
  mongoc_collection_drop(x->coll, &e);
  mongoc_collection_destroy(x->coll);
  x->coll = mongoc_database_create_collection(x->db, "corpus", NULL, &e);
  if (!x->coll) {
    fprintf(stderr, "create: %s\n", e.message);
    x->coll = mongoc_database_get_collection(x->db, "corpus");
  }
}

static int insert_one_task(void* p, char* error, size_t size) {
  ctx_t* x = p;
  for (long i = 0; i < x->ops; ++i) {
    bson_error_t e;
    if (check(mongoc_collection_insert_one(x->coll, x->doc, NULL, NULL, &e), &e, error, size)) {
      return 1;
    }
  }
  return 0;
}

static int insert_many_task(void* p, char* error, size_t size) {
  ctx_t* x = p;
  const bson_t** docs = malloc(sizeof(bson_t*) * (size_t)x->ops);
  for (long i = 0; i < x->ops; ++i) docs[i] = x->doc;
  bson_error_t e;
  int status = check(mongoc_collection_insert_many(x->coll, docs, (size_t)x->ops, NULL, NULL, &e),
                     &e, error, size);
  free(docs);
  return status;
}

static int find_many_task(void* p, char* error, size_t size) {
  ctx_t* x = p;
  bson_t filter = BSON_INITIALIZER;
  mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(x->coll, &filter, NULL, NULL);
  const bson_t* doc;
  long docs = 0;
  bson_error_t e;
  int status = 0;
  while (mongoc_cursor_next(cursor, &doc)) {
    ++docs;
    bson_iter_t it;
    uint32_t len = 0;
    /* read one field of every document */
    if (bson_iter_init_find(&it, doc, "text") && BSON_ITER_HOLDS_UTF8(&it)) {
      bson_iter_utf8(&it, &len);
      sink += len;
    } else {
      snprintf(error, size, "find_many: a document without text");
      status = 1;
      break;
    }
  }
  if (status == 0 && mongoc_cursor_error(cursor, &e)) status = check(false, &e, error, size);
  if (status == 0 && docs != x->ops) {
    snprintf(error, size, "find_many: %ld documents", docs);
    status = 1;
  }
  mongoc_cursor_destroy(cursor);
  return status;
}

/* Inserts `count` copies of x->doc, with _id 1..count when with_ids (untimed setup). */
static void seed(ctx_t* x, long count, int with_ids) {
  bson_t** batch = calloc(1000, sizeof(bson_t*));
  size_t n = 0;
  for (long i = 1; i <= count; ++i) {
    bson_t* d = bson_new();
    if (with_ids) BSON_APPEND_INT32(d, "_id", (int32_t)i);
    bson_concat(d, x->doc);
    batch[n++] = d;
    if (n == 1000 || i == count) {
      bson_error_t e;
      if (!mongoc_collection_insert_many(x->coll, (const bson_t**)batch, n, NULL, NULL, &e)) {
        fprintf(stderr, "seed: %s\n", e.message);
      }
      for (size_t j = 0; j < n; ++j) bson_destroy(batch[j]);
      n = 0;
    }
  }
  free(batch);
}

static int import_file(ctx_t* x, int index, char* error, size_t size) {
  char path[4096];
  snprintf(path, sizeof path, "%s/parallel/ldjson_multi/ldjson%03d.txt", x->config->data, index);
  size_t length = 0;
  char* text = read_file(path, &length);
  if (!text) {
    snprintf(error, size, "cannot read %s", path);
    return 1;
  }
  bson_t** docs = malloc(sizeof(bson_t*) * 8192);
  size_t n = 0, cap = 8192;
  bson_error_t e;
  int status = 0;
  for (char* line = text; *line && status == 0;) {
    char* end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    if (len > 0) {
      bson_t* d = bson_new_from_json((const uint8_t*)line, (ssize_t)len, &e);
      if (!d) status = check(false, &e, error, size);
      if (n == cap) docs = realloc(docs, sizeof(bson_t*) * (cap *= 2));
      if (d) docs[n++] = d;
    }
    line += len + (end ? 1 : 0);
  }
  if (status == 0) {
    status = check(mongoc_collection_insert_many(x->coll, (const bson_t**)docs, n, NULL, NULL, &e),
                   &e, error, size);
  }
  for (size_t i = 0; i < n; ++i) bson_destroy(docs[i]);
  free(docs);
  free(text);
  return status;
}

static int ldjson_import_task(void* p, char* error, size_t size) {
  ctx_t* x = p;
  for (int i = 0; i < x->config->ldjson_files; ++i) {
    if (import_file(x, i, error, size)) return 1;
  }
  return 0;
}

static int ldjson_export_task(void* p, char* error, size_t size) {
  ctx_t* x = p;
  mkdir(x->export_dir, 0700);
  bson_t filter = BSON_INITIALIZER;
  mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(x->coll, &filter, NULL, NULL);
  const bson_t* doc;
  long docs = 0;
  FILE* out = NULL;
  while (mongoc_cursor_next(cursor, &doc)) {
    if (docs % 5000 == 0) {
      char path[512];
      if (out) fclose(out);
      snprintf(path, sizeof path, "%s/ldjson%03ld.txt", x->export_dir, docs / 5000);
      out = fopen(path, "w");
    }
    size_t len;
    char* json = bson_as_relaxed_extended_json(doc, &len);
    fwrite(json, 1, len, out);
    fputc('\n', out);
    bson_free(json);
    ++docs;
  }
  if (out) fclose(out);
  bson_error_t e;
  int status = 0;
  if (mongoc_cursor_error(cursor, &e)) status = check(false, &e, error, size);
  if (status == 0 && docs != x->ops) {
    snprintf(error, size, "ldjson_export: %ld documents", docs);
    status = 1;
  }
  mongoc_cursor_destroy(cursor);
  return status;
}

static void run_task(const config_t* c, const char* name) {
  ctx_t x = {.config = c, .ops = 10000 / c->scale};
  if (strncmp(name, "bson_", 5) == 0) {
    char file[64];
    const char* dataset = name + 5;
    size_t dataset_len = strcspn(dataset, "_");
    snprintf(file, sizeof file, "%.*s_bson.json", (int)dataset_len, dataset);
    x.doc = from_json_file(c, "extended_bson", file);
    x.ops = 10000;
    if (!x.doc) {
      printf("%s error=cannot load %s\n", name, file);
    } else if (strstr(name, "_encode")) {
      measure(name, c, x.ops, bson_encode_task, NULL, &x);
    } else {
      measure(name, c, x.ops, bson_decode_task, NULL, &x);
    }
    if (x.doc) bson_destroy(x.doc);
    return;
  }
  x.client = mongoc_client_new(c->uri);
  x.db = mongoc_client_get_database(x.client, "perftest");
  x.coll = mongoc_database_get_collection(x.db, "corpus");
  bson_error_t e;
  const char* single = "single_and_multi_document";
  if (strcmp(name, "run_command") == 0) {
    measure(name, c, x.ops, run_command_task, NULL, &x);
  } else if (strcmp(name, "find_one") == 0 || strcmp(name, "find_many") == 0) {
    const int one = strcmp(name, "find_one") == 0;
    x.doc = from_json_file(c, single, "tweet.json");
    if (c->seed) {
      mongoc_database_drop(x.db, &e);
      seed(&x, x.ops, one);
    }
    measure(name, c, x.ops, one ? find_one_task : find_many_task, NULL, &x);
  } else if (strncmp(name, "insert_", 7) == 0) {
    const int large = strstr(name, "large") != NULL;
    x.doc = from_json_file(c, single, large ? "large_doc.json" : "small_doc.json");
    if (large) x.ops = 10;
    mongoc_database_drop(x.db, &e);
    measure(name, c, x.ops, strstr(name, "one") ? insert_one_task : insert_many_task,
            fresh_collection, &x);
  } else if (strcmp(name, "ldjson_import") == 0) {
    x.ops = (long)c->ldjson_files * 5000;
    mongoc_database_drop(x.db, &e);
    measure(name, c, x.ops, ldjson_import_task, fresh_collection, &x);
  } else if (strcmp(name, "ldjson_export") == 0) {
    char error[512] = "";
    x.ops = (long)c->ldjson_files * 5000;
    fresh_collection(&x);
    if (ldjson_import_task(&x, error, sizeof error)) {
      printf("%s error=%s\n", name, error);
    } else {
      snprintf(x.export_dir, sizeof x.export_dir, "/tmp/libmongoc-driverbench-export-%d",
               (int)getpid());
      measure(name, c, x.ops, ldjson_export_task, NULL, &x);
      char command[400];
      snprintf(command, sizeof command, "rm -rf '%s'", x.export_dir);
      if (system(command) != 0) fprintf(stderr, "could not remove %s\n", x.export_dir);
    }
  } else {
    printf("%s error=unknown task\n", name);
  }
  if (x.doc) bson_destroy(x.doc);
  mongoc_collection_destroy(x.coll);
  mongoc_database_destroy(x.db);
  mongoc_client_destroy(x.client);
}

int main(int argc, char** argv) {
  if (argc < 8) {
    fprintf(stderr, "usage: %s URI DATA_DIR ITERATIONS SEED SCALE LDJSON_FILES TASK...\n", argv[0]);
    return 2;
  }
  config_t c = {argv[1], argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6])};
  if (c.scale < 1) c.scale = 1;
  mongoc_init();
  for (int i = 7; i < argc; ++i) run_task(&c, argv[i]);
  mongoc_cleanup();
  return sink == 42 ? 1 : 0;
}
