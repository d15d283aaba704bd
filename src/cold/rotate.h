/*
 * rotate.h — the cold tier's rotation (docs/cold-store.md, "Rotation"):
 * rows older than their signal's hot window move, an hour at a time, from
 * PostgreSQL into Parquet objects, recorded in the cold_files catalog in
 * the transaction that removes them from the hot tables; expired objects
 * are deleted (retention); objects a crash left uncataloged are removed.
 *
 * A `rotate` task (one node at a time: store/locks.h) when cold_url is set,
 * and `lookout rotate` / `lookout cold ls` on the command line.
 */
#ifndef LO_COLD_ROTATE_H
#define LO_COLD_ROTATE_H

#include <libpq-fe.h>

#include "core/config.h"
#include "core/lo.h"
#include "sched/sched.h"
#include "store/retention.h"

typedef struct lo_rotate lo_rotate_t;

/* The module over cfg->cold_url (cfg and ret must outlive it).  NULL with
 * err "" when cold_url is empty (no cold tier); NULL with a message when
 * the URL or the environment is wrong or memory ran out. */
lo_rotate_t *lo_rotate_create(const lo_config_t *cfg, const lo_retention_t *ret, char *err, size_t errlen);
/* Adds the rotate task and the /metrics renderer.  LO_OK or LO_ERROR. */
int lo_rotate_register(lo_rotate_t *r, lo_sched_t *sched) LO_MUST_USE;
/* Adds the task alone (`lookout task run rotate`). */
int lo_rotate_add_task(lo_rotate_t *r, lo_sched_t *sched) LO_MUST_USE;
/* Accepts NULL. */
void lo_rotate_destroy(lo_rotate_t *r);

/* One run's choices. */
typedef struct {
    unsigned signals;      /* a bit (1u << lo_signal_t) per signal; 0: every signal */
    int64_t older_than_us; /* > 0: move rows older than this rather than each signal's hot window */
    bool dry_run;          /* say what would move; change nothing */
    /* each line of the run's report (what moved, was expired or removed); may be NULL */
    void (*report)(void *ud, const char *line);
    void *ud;
} lo_rotate_opts_t;

/* One rotation on db (the caller holds the election lock): remove objects
 * a crash left behind, move every whole hour older than the limit, drop
 * hot partitions that rotation emptied and no record can reach, delete
 * expired objects.  A failing hour stops its signal's run (the next run
 * retries it) but not the other signals'.  LO_OK, LO_UNAVAIL (the
 * database), or LO_ERROR with err naming the first failure. */
int lo_rotate_run(lo_rotate_t *r, PGconn *db, const lo_rotate_opts_t *o, char *err,
                  size_t errlen) LO_MUST_USE;

#endif
