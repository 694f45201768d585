/*
 * pool.h: an ordered work pool.  One thread (the owner) fills items in order;
 * worker threads run `work` on whole batches of them in parallel; the owner
 * then runs `done` on every item, in the order the items were filled.  Used
 * to parse SIP messages on several cores while one thread keeps the order
 * the later stages need (transactions, the database).
 *
 * Items are fixed-size slots owned by the pool and REUSED: a slot handed out
 * by sl_pool_slot still holds what the caller left in it the last time (its
 * buffers, say), so the caller resets what it needs.  `fini` runs once per
 * slot when the pool is freed.
 *
 * With 0 workers nothing runs concurrently: the owner runs `work` itself
 * when a batch is due, so results never depend on the number of threads.
 * Memory is bounded: at most ring * batch slots exist, whatever the input.
 */
#ifndef SL_BASE_POOL_H
#define SL_BASE_POOL_H

#include <stddef.h>

struct sl_pool;

/* work: runs on any thread, on one item, with ctx; must touch nothing but the
 * item and read-only state.  done: runs on the owner's thread, in fill order,
 * on every item worked (also after a failure: it releases what work made);
 * the first non-zero return is kept.  fini: frees what an item holds (may be
 * NULL). */
struct sl_pool_fns {
    void (*work)(void *item, void *ctx);
    int (*done)(void *item, void *ctx);
    void (*fini)(void *item);
    void *ctx;
};

/* A pool of `workers` threads (0: none, the owner does the work) over items
 * of item_size bytes, in batches of batch items.  Returns 0, or -1 when out
 * of memory or a thread cannot start (then *out is NULL). */
int sl_pool_new(struct sl_pool **out, size_t item_size, size_t batch, unsigned workers,
                const struct sl_pool_fns *fns);

/* The next slot to fill.  May first wait for, and run `done` on, the oldest
 * batch when the ring is full.  Never NULL. */
void *sl_pool_slot(struct sl_pool *p);

/* The slot from sl_pool_slot is filled: it will be worked on and done. */
void sl_pool_push(struct sl_pool *p);

/* Runs work and done on every item pushed so far.  Returns the first non-zero
 * `done` result since the last sl_pool_flush (and clears it), else 0. */
int sl_pool_flush(struct sl_pool *p);

/* The first non-zero `done` result so far (0: none), without flushing. */
int sl_pool_status(const struct sl_pool *p);

/* Stops the workers and frees every slot (running fini on each).  Items
 * pushed and not yet flushed are dropped without `done`.  Accepts NULL. */
void sl_pool_free(struct sl_pool *p);

/* The number of online processors (at least 1). */
unsigned sl_pool_cores(void);

#endif /* SL_BASE_POOL_H */
