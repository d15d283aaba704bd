/*
 * pb_corpus.h — runs a check over every file of a fuzz corpus directory
 * (real request bodies captured from the OpenTelemetry SDKs, and seeds).
 */
#ifndef LO_TEST_PB_CORPUS_H
#define LO_TEST_PB_CORPUS_H

#include <dirent.h>

#include "pb_oracle.h"

/* Calls fn(body, n) for each regular file in dir; returns the count
 * (0 when the directory does not exist). */
static int corpus_each(const char *dir, void (*fn)(const uint8_t *p, size_t n, const char *name))
{
    DIR *dp = opendir(dir);
    if (dp == NULL)
        return 0;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (f == NULL)
            continue;
        uint8_t *buf = NULL;
        size_t n = 0, cap = 0;
        for (;;) {
            if (n == cap) {
                cap = cap ? cap * 2 : 65536;
                buf = realloc(buf, cap);
                assert_non_null(buf);
            }
            size_t k = fread(buf + n, 1, cap - n, f);
            if (k == 0)
                break;
            n += k;
        }
        fclose(f);
        fn(buf, n, e->d_name);
        free(buf);
        count++;
    }
    closedir(dp);
    return count;
}

#endif

/* With LO_TEST_WRITE_SEEDS set, writes a few packed random requests into
 * fuzz/corpus/<target>/gen-N (how the committed seeds were made). */
static void corpus_write_seeds(const char *target, const ProtobufCMessage *(*gen)(void))
{
    if (getenv("LO_TEST_WRITE_SEEDS") == NULL)
        return;
    g_valid_ids = true;
    for (int i = 0; i < 4; i++) {
        size_t n;
        uint8_t *p = pack_msg(gen(), &n);
        char path[256];
        snprintf(path, sizeof(path), "fuzz/corpus/%s/gen-%d", target, i + 1);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(p, 1, n, f), n);
        fclose(f);
        free(p);
        pool_free();
    }
    g_valid_ids = false;
}
