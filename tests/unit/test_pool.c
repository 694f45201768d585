/*
 * test_pool.c: lib/base/pool: items are done in the order they were filled,
 * each exactly once and after its work, with 0 and with several workers and
 * whatever the batch size; the first failure is kept and every item is still
 * done; slots are reused with what they held; fini runs on every slot.
 */
#include "test.h"

#include <stdint.h>
#include <stdlib.h>

#include "base/pool.h"

struct item {
    uint64_t seq;    /* the fill order */
    uint64_t square; /* the work: seq * seq */
    int worked;      /* times worked since filled */
    char *held;      /* kept between uses of the slot */
};

struct ctx {
    uint64_t next; /* the seq the next done must see */
    uint64_t n_done;
    uint64_t fail_at; /* done returns 7 at this seq (0: never) */
    int bad;          /* something out of order, worked twice, or not worked */
    int finis;
};

static void work(void *it, void *c)
{
    struct item *i = it;

    (void)c;
    i->square = i->seq * i->seq;
    i->worked++;
}

static int done(void *it, void *c)
{
    struct item *i = it;
    struct ctx *x = c;

    if (i->seq != x->next || i->worked != 1 || i->square != i->seq * i->seq)
        x->bad++;
    x->next++;
    x->n_done++;
    return x->fail_at != 0 && i->seq == x->fail_at ? 7 : 0;
}

static void fini(void *it)
{
    struct item *i = it;

    free(i->held);
    i->held = NULL;
}

/* Fills n items through a pool of `workers` workers and batches of `batch`. */
static void run(unsigned workers, size_t batch, uint64_t n, uint64_t fail_at)
{
    struct ctx x = { 0, 0, fail_at, 0, 0 };
    struct sl_pool_fns fns = { work, done, fini, &x };
    struct sl_pool *p = NULL;
    uint64_t k;
    int rc;

    assert_int_equal(sl_pool_new(&p, sizeof(struct item), batch, workers, &fns), 0);
    for (k = 0; k < n; k++) {
        struct item *i = sl_pool_slot(p);

        if (i->held == NULL) /* slots are reused: what they hold stays */
            i->held = malloc(16);
        assert_non_null(i->held);
        i->seq = k;
        i->worked = 0;
        sl_pool_push(p);
    }
    rc = sl_pool_flush(p);
    assert_int_equal(x.bad, 0);
    assert_int_equal(x.n_done, n);
    assert_int_equal(rc, fail_at != 0 && fail_at < n ? 7 : 0);
    /* a flush clears the failure; an empty flush is fine */
    assert_int_equal(sl_pool_flush(p), 0);
    assert_int_equal(sl_pool_status(p), 0);
    sl_pool_free(p); /* frees every `held` (ASan/valgrind see a leak otherwise) */
}

static void test_pool_order_no_workers(void **state)
{
    (void)state;
    run(0, 1, 100, 0);
    run(0, 7, 1000, 0);
    run(0, 256, 10, 0);
    run(0, 256, 0, 0);
}

static void test_pool_order_workers(void **state)
{
    (void)state;
    run(1, 7, 5000, 0);
    run(3, 1, 2000, 0);
    run(3, 64, 100000, 0);
    run(8, 256, 3, 0);
}

static void test_pool_failure_kept(void **state)
{
    (void)state;
    run(0, 16, 1000, 500);
    run(2, 16, 1000, 3);
}

static void test_pool_cores(void **state)
{
    (void)state;
    assert_true(sl_pool_cores() >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_order_no_workers),
        cmocka_unit_test(test_pool_order_workers),
        cmocka_unit_test(test_pool_failure_kept),
        cmocka_unit_test(test_pool_cores),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
