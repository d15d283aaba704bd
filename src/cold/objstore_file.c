/*
 * objstore_file.c — the object store in a local directory: a key is a path
 * under the root.  A put writes a temporary file (".lo-tmp-*", a dot-name no
 * key can have) in the key's directory, fsyncs it, renames it over the key
 * and fsyncs the directory, so a reader sees the old object or the new one,
 * never a part, and a crash leaves at most a dot-file that listing skips.
 */
#include "cold/objstore_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int lo_os_file_open(lo_objstore_t *s, const char *path, char *err, size_t errlen)
{
    if (path[0] != '/')
        return lo_os_fail(err, errlen, LO_INVALID,
                          "object store: file URL must be file:///absolute/path (no host, not relative)");
    if (strchr(path, '?') || strchr(path, '#') || strchr(path, '%'))
        return lo_os_fail(err, errlen, LO_INVALID,
                          "object store: file URL takes no query, fragment or escapes");
    if (strstr(path, "/../") || (strlen(path) >= 3 && strcmp(path + strlen(path) - 3, "/..") == 0))
        return lo_os_fail(err, errlen, LO_INVALID, "object store: file URL path must not contain '..'");
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    if (n == 1)
        return lo_os_fail(err, errlen, LO_INVALID, "object store: file URL must name a directory below /");
    if (n >= 4096 - LO_OBJSTORE_KEY_MAX - 32)
        return lo_os_fail(err, errlen, LO_INVALID, "object store: file URL path too long");
    struct stat st;
    if (stat(path, &st) != 0)
        return lo_os_fail(err, errlen, LO_INVALID, "object store: %.*s: %s", (int)n, path, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return lo_os_fail(err, errlen, LO_INVALID, "object store: %.*s is not a directory", (int)n, path);
    s->root = strndup(path, n);
    if (!s->root)
        return lo_os_fail(err, errlen, LO_ERROR, "object store: out of memory");
    return LO_OK;
}

static void key_path(const lo_objstore_t *s, const char *key, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", s->root, key);
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Creates every missing directory of path's parent under the root. */
static int make_parents(const lo_objstore_t *s, char *path)
{
    size_t root = strlen(s->root);
    for (char *p = path + root + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = 0;
        int rc = mkdir(path, 0755);
        int e = errno;
        *p = '/';
        if (rc != 0 && e != EEXIST) {
            errno = e;
            return -1;
        }
    }
    return 0;
}

int lo_os_file_put(lo_objstore_t *s, const char *key, const void *data, size_t len, char *err, size_t errlen)
{
    char path[4096], tmp[4096 + 16];
    key_path(s, key, path, sizeof path);
    if (make_parents(s, path) != 0)
        return lo_os_fail(err, errlen, LO_ERROR, "put %s: creating its directory: %s", key, strerror(errno));
    char *slash = strrchr(path, '/');
    snprintf(tmp, sizeof tmp, "%.*s/.lo-tmp-XXXXXX", (int)(slash - path), path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return lo_os_fail(err, errlen, LO_ERROR, "put %s: creating a temporary file: %s", key,
                          strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto fail;
        p += w;
        left -= (size_t)w;
    }
    if (fchmod(fd, 0644) != 0 || fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto fail;
    *slash = 0;
    int rc = fsync_dir(path);
    *slash = '/';
    if (rc != 0)
        return lo_os_fail(err, errlen, LO_ERROR, "put %s: syncing its directory: %s", key, strerror(errno));
    return LO_OK;
fail : {
    int e = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return lo_os_fail(err, errlen, e == ENOSPC ? LO_UNAVAIL : LO_ERROR, "put %s: %s", key, strerror(e));
}
}

static int open_key(lo_objstore_t *s, const char *op, const char *key, struct stat *st, char *err,
                    size_t errlen, int *fd_out)
{
    char path[4096];
    key_path(s, key, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return lo_os_fail(err, errlen, LO_NOT_FOUND, "%s %s: no such key", op, key);
        return lo_os_fail(err, errlen, LO_ERROR, "%s %s: %s", op, key, strerror(errno));
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return lo_os_fail(err, errlen, LO_NOT_FOUND, "%s %s: no such key", op, key);
    }
    *fd_out = fd;
    return LO_OK;
}

int lo_os_file_get_range(lo_objstore_t *s, const char *key, uint64_t offset, uint64_t len, bool whole,
                         lo_buf_t *out, char *err, size_t errlen)
{
    const char *op = whole ? "get" : "get_range";
    struct stat st;
    int fd;
    int rc = open_key(s, op, key, &st, err, errlen, &fd);
    if (rc != LO_OK)
        return rc;
    uint64_t size = (uint64_t)st.st_size;
    if (whole) {
        offset = 0;
        len = size;
    } else if (offset >= size) {
        close(fd);
        return lo_os_fail(err, errlen, LO_INVALID, "get_range %s: offset %llu is past the end (%llu bytes)",
                          key, (unsigned long long)offset, (unsigned long long)size);
    } else if (len > size - offset) {
        len = size - offset;
    }
    if (len > SIZE_MAX / 2 || (rc = lo_buf_reserve(out, (size_t)len)) != LO_OK) {
        close(fd);
        return lo_os_fail(err, errlen, rc == LO_ERROR ? LO_ERROR : LO_TOO_LARGE,
                          "%s %s: %llu bytes do not fit the buffer", op, key, (unsigned long long)len);
    }
    uint64_t done = 0;
    while (done < len) {
        ssize_t r = pread(fd, out->p + out->len, (size_t)(len - done), (off_t)(offset + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            return lo_os_fail(err, errlen, LO_ERROR, "%s %s: %s", op, key, strerror(e));
        }
        if (r == 0)
            break; /* shrank meanwhile: cannot happen with rename-only writers */
        out->len += (size_t)r;
        done += (uint64_t)r;
    }
    close(fd);
    return LO_OK;
}

int lo_os_file_head(lo_objstore_t *s, const char *key, uint64_t *size, char *err, size_t errlen)
{
    char path[4096];
    key_path(s, key, path, sizeof path);
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return lo_os_fail(err, errlen, LO_NOT_FOUND, "head %s: no such key", key);
        return lo_os_fail(err, errlen, LO_ERROR, "head %s: %s", key, strerror(errno));
    }
    if (!S_ISREG(st.st_mode))
        return lo_os_fail(err, errlen, LO_NOT_FOUND, "head %s: no such key", key);
    *size = (uint64_t)st.st_size;
    return LO_OK;
}

typedef struct {
    char *key;
    uint64_t size;
} entry_t;

typedef struct {
    entry_t *v;
    size_t n, cap;
    const char *prefix;
    size_t root_len;
} walk_t;

static int walk(walk_t *w, char *path, size_t plen, int depth)
{
    if (depth > 64)
        return LO_OK; /* deeper than any key can be */
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT || errno == ENOTDIR ? LO_OK : LO_ERROR;
    struct dirent *e;
    int rc = LO_OK;
    while (rc == LO_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* ".", "..", temporary files */
        size_t nlen = strlen(e->d_name);
        if (plen + 1 + nlen >= 4096)
            continue;
        path[plen] = '/';
        memcpy(path + plen + 1, e->d_name, nlen + 1);
        const char *key = path + w->root_len + 1;
        struct stat st;
        if (lstat(path, &st) != 0)
            continue; /* removed meanwhile */
        if (S_ISDIR(st.st_mode)) {
            /* descend only where keys with the prefix can be */
            size_t klen = strlen(key), pl = strlen(w->prefix);
            size_t cmp = klen < pl ? klen : pl;
            if (strncmp(key, w->prefix, cmp) == 0)
                rc = walk(w, path, plen + 1 + nlen, depth + 1);
        } else if (S_ISREG(st.st_mode) && strncmp(key, w->prefix, strlen(w->prefix)) == 0 &&
                   lo_objstore_key_valid(key)) {
            if (w->n == w->cap) {
                size_t cap = w->cap ? w->cap * 2 : 64;
                entry_t *v = realloc(w->v, cap * sizeof(*v));
                if (!v) {
                    rc = LO_ERROR;
                    break;
                }
                w->v = v;
                w->cap = cap;
            }
            w->v[w->n].key = strdup(key);
            if (!w->v[w->n].key) {
                rc = LO_ERROR;
                break;
            }
            w->v[w->n++].size = (uint64_t)st.st_size;
        }
        path[plen] = 0;
    }
    path[plen] = 0;
    closedir(d);
    return rc;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const entry_t *)a)->key, ((const entry_t *)b)->key);
}

int lo_os_file_list(lo_objstore_t *s, const char *prefix, lo_objstore_list_cb cb, void *ud, char *err,
                    size_t errlen)
{
    char path[4096];
    walk_t w = { .prefix = prefix, .root_len = strlen(s->root) };
    snprintf(path, sizeof path, "%s", s->root);
    int rc = walk(&w, path, w.root_len, 0);
    if (rc != LO_OK)
        rc = lo_os_fail(err, errlen, LO_ERROR, "list %s: walking the directory failed", prefix);
    else if (w.n > 0)
        qsort(w.v, w.n, sizeof(*w.v), entry_cmp);
    for (size_t i = 0; i < w.n; i++) {
        if (rc == LO_OK)
            rc = cb(ud, w.v[i].key, w.v[i].size);
        free(w.v[i].key);
    }
    free(w.v);
    return rc;
}

int lo_os_file_delete(lo_objstore_t *s, const char *key, char *err, size_t errlen)
{
    char path[4096];
    key_path(s, key, path, sizeof path);
    if (unlink(path) != 0 && errno != ENOENT && errno != ENOTDIR)
        return lo_os_fail(err, errlen, LO_ERROR, "delete %s: %s", key, strerror(errno));
    return LO_OK;
}
