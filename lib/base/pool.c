/*
 * pool.c: the ordered work pool (pool.h).
 *
 * A ring of batches.  The owner fills the batch at `fill`; a full batch is
 * QUEUED for the workers, which take the oldest queued batch (WORKING) and
 * mark it WORKED.  The owner runs `done` on the batch at `head` once it is
 * WORKED; while it is not, the owner works a QUEUED batch itself (the head,
 * or the oldest queued) rather than wait.  One mutex and two condition variables; workers touch a batch's
 * items only while it is WORKING, the owner only while it is FILLING or after
 * it is WORKED, so the items need no lock of their own.
 */
#include "base/pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum batch_state {
    B_FREE,
    B_FILLING,
    B_QUEUED,
    B_WORKING,
    B_WORKED
};

struct batch {
    enum batch_state state;
    size_t n;     /* items filled */
    uint64_t seq; /* queue order: workers take the lowest */
    char *items;  /* batch * item_size bytes */
};

#define MAX_WORKERS 64
#define MIN_RING    16

struct sl_pool {
    size_t item_size, batch;
    struct sl_pool_fns fns;
    struct batch *ring;
    size_t n_ring;
    size_t head;      /* oldest batch not yet done */
    size_t fill;      /* batch being filled (== head + filled batches) */
    size_t in_flight; /* batches between head and fill, fill included when FILLING */
    uint64_t next_seq;
    int status;
    unsigned n_workers;
    pthread_t workers[MAX_WORKERS];
    pthread_mutex_t mu;
    pthread_cond_t cv_queued; /* a batch was queued, or stop */
    pthread_cond_t cv_worked; /* a batch was worked */
    bool stop;
    bool sync_ok; /* mutex and condition variables initialized */
};

static void *item_at(const struct sl_pool *p, const struct batch *b, size_t i)
{
    return b->items + i * p->item_size;
}

/* A batch's state is read and written under mu only (workers scan them all). */
static enum batch_state state_of(struct sl_pool *p, const struct batch *b)
{
    enum batch_state st;

    pthread_mutex_lock(&p->mu);
    st = b->state;
    pthread_mutex_unlock(&p->mu);
    return st;
}

static void set_state(struct sl_pool *p, struct batch *b, enum batch_state st)
{
    pthread_mutex_lock(&p->mu);
    b->state = st;
    pthread_mutex_unlock(&p->mu);
}

static void work_batch(struct sl_pool *p, struct batch *b)
{
    size_t i;

    for (i = 0; i < b->n; i++)
        p->fns.work(item_at(p, b, i), p->fns.ctx);
}

/* The queued batch with the lowest sequence number, or NULL.  Under mu. */
static struct batch *oldest_queued(struct sl_pool *p)
{
    struct batch *best = NULL;
    size_t i;

    for (i = 0; i < p->n_ring; i++) {
        struct batch *b = &p->ring[i];

        if (b->state == B_QUEUED && (best == NULL || b->seq < best->seq))
            best = b;
    }
    return best;
}

static void *worker_main(void *arg)
{
    struct sl_pool *p = arg;
    struct batch *b;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && (b = oldest_queued(p)) == NULL)
            pthread_cond_wait(&p->cv_queued, &p->mu);
        if (p->stop)
            break;
        b->state = B_WORKING;
        pthread_mutex_unlock(&p->mu);
        work_batch(p, b);
        pthread_mutex_lock(&p->mu);
        b->state = B_WORKED;
        pthread_cond_broadcast(&p->cv_worked);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

unsigned sl_pool_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n < 1 ? 1u : n > MAX_WORKERS ? MAX_WORKERS : (unsigned)n;
}

int sl_pool_new(struct sl_pool **out, size_t item_size, size_t batch, unsigned workers,
                const struct sl_pool_fns *fns)
{
    struct sl_pool *p;
    size_t i;

    *out = NULL;
    if (workers > MAX_WORKERS)
        workers = MAX_WORKERS;
    if (item_size == 0 || batch == 0 || batch > SIZE_MAX / item_size)
        return -1;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return -1;
    p->item_size = item_size;
    p->batch = batch;
    p->fns = *fns;
    /* Two batches per worker and two for the owner, but never fewer than
     * MIN_RING with workers.  The owner runs `done` a whole batch at a time
     * and fills only into a free batch; with 4 batches for one worker, the
     * worker often found nothing queued (100k generated messages, 2 threads:
     * 135 waits, 1.1 s in all, while the owner worked 83 of the 391 batches
     * itself); with 16, about 0.1 s. */
    p->n_ring = 2 * (size_t)workers + 2;
    if (workers > 0 && p->n_ring < MIN_RING)
        p->n_ring = MIN_RING;
    p->ring = calloc(p->n_ring, sizeof(*p->ring));
    if (p->ring == NULL)
        goto fail;
    for (i = 0; i < p->n_ring; i++) {
        p->ring[i].items = calloc(batch, item_size);
        if (p->ring[i].items == NULL)
            goto fail;
    }
    if (pthread_mutex_init(&p->mu, NULL) != 0)
        goto fail;
    if (pthread_cond_init(&p->cv_queued, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        goto fail;
    }
    if (pthread_cond_init(&p->cv_worked, NULL) != 0) {
        pthread_cond_destroy(&p->cv_queued);
        pthread_mutex_destroy(&p->mu);
        goto fail;
    }
    p->sync_ok = true;
    for (i = 0; i < workers; i++) {
        if (pthread_create(&p->workers[i], NULL, worker_main, p) != 0)
            goto fail;
        p->n_workers++;
    }
    *out = p;
    return 0;
fail:
    sl_pool_free(p);
    return -1;
}

/* Runs done on the items of the batch at head (working it first if no worker
 * has) and frees it. */
static void finish_head(struct sl_pool *p)
{
    struct batch *b = &p->ring[p->head];
    size_t i;

    pthread_mutex_lock(&p->mu);
    while (b->state != B_WORKED) {
        /* rather than wait for a worker, the owner works a queued batch
         * itself: the head when nobody took it, else the oldest other one */
        struct batch *q = b->state == B_QUEUED ? b : oldest_queued(p);

        if (q == NULL) {
            pthread_cond_wait(&p->cv_worked, &p->mu);
            continue;
        }
        q->state = B_WORKING;
        pthread_mutex_unlock(&p->mu);
        work_batch(p, q);
        pthread_mutex_lock(&p->mu);
        q->state = B_WORKED;
    }
    pthread_mutex_unlock(&p->mu);
    for (i = 0; i < b->n; i++) {
        int rc = p->fns.done(item_at(p, b, i), p->fns.ctx);

        if (rc != 0 && p->status == 0)
            p->status = rc;
    }
    b->n = 0;
    set_state(p, b, B_FREE);
    p->head = (p->head + 1) % p->n_ring;
    p->in_flight--;
}

/* Queues the batch being filled (when it holds anything). */
static void queue_fill(struct sl_pool *p)
{
    struct batch *b = &p->ring[p->fill];

    if (state_of(p, b) != B_FILLING || b->n == 0)
        return;
    pthread_mutex_lock(&p->mu);
    b->state = B_QUEUED;
    b->seq = p->next_seq++;
    pthread_cond_signal(&p->cv_queued);
    pthread_mutex_unlock(&p->mu);
    p->fill = (p->fill + 1) % p->n_ring;
}

/* Done-s the batches at head that the workers have finished, without waiting. */
static void finish_ready(struct sl_pool *p)
{
    for (;;) {
        if (p->in_flight == 0 || state_of(p, &p->ring[p->head]) != B_WORKED)
            return;
        finish_head(p);
    }
}

void *sl_pool_slot(struct sl_pool *p)
{
    struct batch *b = &p->ring[p->fill];
    enum batch_state st = state_of(p, b);

    if (st == B_FILLING && b->n == p->batch) {
        queue_fill(p);
        /* with workers, the owner gives them time: it takes finished
         * batches but waits only when the ring is full */
        finish_ready(p);
        b = &p->ring[p->fill];
        st = state_of(p, b);
    }
    if (st != B_FILLING) {
        while (state_of(p, b) != B_FREE)
            finish_head(p);
        b->n = 0;
        set_state(p, b, B_FILLING);
        p->in_flight++;
    }
    return item_at(p, b, b->n);
}

void sl_pool_push(struct sl_pool *p)
{
    p->ring[p->fill].n++;
    if (p->n_workers == 0 && p->ring[p->fill].n == p->batch) {
        /* no workers: work and done at once, nothing waits in the ring */
        queue_fill(p);
        while (p->in_flight > 0)
            finish_head(p);
    }
}

int sl_pool_flush(struct sl_pool *p)
{
    int rc;

    queue_fill(p);
    while (p->in_flight > 0) {
        if (state_of(p, &p->ring[p->head]) == B_FILLING) { /* an empty batch being filled */
            set_state(p, &p->ring[p->head], B_FREE);
            p->in_flight--;
            p->head = (p->head + 1) % p->n_ring;
            continue;
        }
        finish_head(p);
    }
    rc = p->status;
    p->status = 0;
    return rc;
}

int sl_pool_status(const struct sl_pool *p)
{
    return p->status;
}

void sl_pool_free(struct sl_pool *p)
{
    size_t i, j;

    if (p == NULL)
        return;
    if (p->sync_ok) {
        pthread_mutex_lock(&p->mu);
        p->stop = true;
        pthread_cond_broadcast(&p->cv_queued);
        pthread_mutex_unlock(&p->mu);
        for (i = 0; i < p->n_workers; i++)
            pthread_join(p->workers[i], NULL);
        pthread_cond_destroy(&p->cv_worked);
        pthread_cond_destroy(&p->cv_queued);
        pthread_mutex_destroy(&p->mu);
    }
    if (p->ring != NULL) {
        for (i = 0; i < p->n_ring; i++) {
            if (p->ring[i].items == NULL)
                continue;
            if (p->fns.fini != NULL) {
                for (j = 0; j < p->batch; j++)
                    p->fns.fini(item_at(p, &p->ring[i], j));
            }
            free(p->ring[i].items);
        }
        free(p->ring);
    }
    free(p);
}
