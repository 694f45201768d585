#include "base/map.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "siplint.h"

/* Smallest table; always a power of two. */
#define MAP_MIN_SLOTS 16u

struct slot {
    const void *key; /* NULL = empty */
    size_t key_len;
    uint64_t hash;
    void *value;
};

struct sl_map {
    struct slot *slots;
    size_t n_slots; /* power of two */
    size_t count;
    size_t max_entries;
    uint64_t k0, k1; /* SipHash key */
};

/* ------------------------------------------------------------ SipHash -- */

static uint64_t rotl(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64u - b));
}

static uint64_t load_le64(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;

    memcpy(&v, p, sizeof(v));
    return v;
#else
    uint64_t v = 0;
    unsigned i;

    for (i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8u * i);
    return v;
#endif
}

/* One SipRound on the four state words (locals: the compiler keeps them in
 * registers, which an array passed to a function defeated). */
#define SIP_ROUND(v0, v1, v2, v3) \
    do {                          \
        v0 += v1;                 \
        v1 = rotl(v1, 13);        \
        v1 ^= v0;                 \
        v0 = rotl(v0, 32);        \
        v2 += v3;                 \
        v3 = rotl(v3, 16);        \
        v3 ^= v2;                 \
        v0 += v3;                 \
        v3 = rotl(v3, 21);        \
        v3 ^= v0;                 \
        v2 += v1;                 \
        v1 = rotl(v1, 17);        \
        v1 ^= v2;                 \
        v2 = rotl(v2, 32);        \
    } while (0)

/* Aumasson & Bernstein, "SipHash: a fast short-input PRF" (2012), with c
 * compression and d finalization rounds (constants where it is inlined). */
static inline __attribute__((always_inline)) uint64_t
siphash_cd(const void *p, size_t n, uint64_t k0, uint64_t k1, unsigned c, unsigned d)
{
    const uint8_t *in = p;
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
    uint64_t b = (uint64_t)n << 56;
    uint64_t m;
    size_t i, full = n - n % 8u;
    unsigned j, r;

    for (i = 0; i < full; i += 8) {
        m = load_le64(in + i);
        v3 ^= m;
        for (r = 0; r < c; r++)
            SIP_ROUND(v0, v1, v2, v3);
        v0 ^= m;
    }
    for (j = 0; i + j < n; j++)
        b |= (uint64_t)in[i + j] << (8u * j);
    v3 ^= b;
    for (r = 0; r < c; r++)
        SIP_ROUND(v0, v1, v2, v3);
    v0 ^= b;
    v2 ^= 0xff;
    for (r = 0; r < d; r++)
        SIP_ROUND(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t sl_siphash(const void *p, size_t n, uint64_t k0, uint64_t k1)
{
    return siphash_cd(p, n, k0, k1, 2, 4);
}

/* The table hash: SipHash-1-3 (as Rust's and Python's hash tables use),
 * still keyed, at about half the cost of 2-4. */
uint64_t sl_map_hash(const struct sl_map *m, const void *key, size_t key_len)
{
    return siphash_cd(key != NULL ? key : "", key_len, m->k0, m->k1, 1, 3);
}

/* ---------------------------------------------------------------- map -- */

struct sl_map *sl_map_new(size_t max_entries)
{
    static uint64_t counter;
    struct sl_map *m = calloc(1, sizeof(*m));
    uint64_t k[2];

    if (m == NULL)
        return NULL;
    m->slots = calloc(MAP_MIN_SLOTS, sizeof(*m->slots));
    if (m->slots == NULL) {
        free(m);
        return NULL;
    }
    m->n_slots = MAP_MIN_SLOTS;
    m->max_entries = max_entries;
    /* A secret key defeats crafted collisions; without randomness the map
     * still works, only less robustly. */
    if (getrandom(k, sizeof(k), GRND_NONBLOCK) != (ssize_t)sizeof(k)) {
        k[0] = (uint64_t)(uintptr_t)m ^ 0x9e3779b97f4a7c15ULL;
        k[1] = ++counter ^ 0xbf58476d1ce4e5b9ULL;
    }
    m->k0 = k[0];
    m->k1 = k[1];
    return m;
}

void sl_map_free(struct sl_map *m)
{
    if (m == NULL)
        return;
    free(m->slots);
    free(m);
}

size_t sl_map_count(const struct sl_map *m)
{
    return m->count;
}

static bool key_eq(const struct slot *s, uint64_t hash, const void *key, size_t key_len)
{
    return s->hash == hash && s->key_len == key_len &&
           (key_len == 0 || memcmp(s->key, key, key_len) == 0);
}

/* Index of the slot holding key, or of the empty slot where it would go. */
static size_t find_slot(const struct sl_map *m, uint64_t hash, const void *key, size_t key_len)
{
    size_t mask = m->n_slots - 1;
    size_t i = (size_t)hash & mask;

    while (m->slots[i].key != NULL && !key_eq(&m->slots[i], hash, key, key_len))
        i = (i + 1) & mask;
    return i;
}

void *sl_map_get(const struct sl_map *m, const void *key, size_t key_len)
{
    return sl_map_get_h(m, key, key_len, sl_map_hash(m, key, key_len));
}

void *sl_map_get_h(const struct sl_map *m, const void *key, size_t key_len, uint64_t hash)
{
    size_t i;

    if (key == NULL)
        key = "";
    i = find_slot(m, hash, key, key_len);
    return m->slots[i].key != NULL ? m->slots[i].value : NULL;
}

static int grow(struct sl_map *m)
{
    size_t n = m->n_slots * 2, i, j, mask;
    struct slot *s;

    if (n < m->n_slots || n > SIZE_MAX / sizeof(*s))
        return SL_ENOMEM;
    s = calloc(n, sizeof(*s));
    if (s == NULL)
        return SL_ENOMEM;
    mask = n - 1;
    for (i = 0; i < m->n_slots; i++) {
        if (m->slots[i].key == NULL)
            continue;
        j = (size_t)m->slots[i].hash & mask;
        while (s[j].key != NULL)
            j = (j + 1) & mask;
        s[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = s;
    m->n_slots = n;
    return SL_OK;
}

int sl_map_put(struct sl_map *m, const void *key, size_t key_len, void *value, void **old)
{
    return sl_map_put_h(m, key, key_len, sl_map_hash(m, key, key_len), value, old);
}

int sl_map_put_h(struct sl_map *m, const void *key, size_t key_len, uint64_t hash, void *value,
                 void **old)
{
    size_t i;
    int rc;

    if (key == NULL) // an empty slot is marked by a NULL key
        key = "";
    i = find_slot(m, hash, key, key_len);
    if (old != NULL)
        *old = NULL;
    if (m->slots[i].key != NULL) {
        if (old != NULL)
            *old = m->slots[i].value;
        m->slots[i].key = key;
        m->slots[i].value = value;
        return SL_OK;
    }
    if (m->max_entries > 0 && m->count >= m->max_entries)
        return SL_ELIMIT;
    /* Keep the load at most 3/4 so probe runs stay short. */
    if ((m->count + 1) * 4 > m->n_slots * 3) {
        rc = grow(m);
        if (rc != SL_OK)
            return rc;
        i = find_slot(m, hash, key, key_len);
    }
    m->slots[i].key = key;
    m->slots[i].key_len = key_len;
    m->slots[i].hash = hash;
    m->slots[i].value = value;
    m->count++;
    return SL_OK;
}

bool sl_map_del(struct sl_map *m, const void *key, size_t key_len, const void *value)
{
    return sl_map_del_h(m, key, key_len, sl_map_hash(m, key, key_len), value);
}

bool sl_map_del_h(struct sl_map *m, const void *key, size_t key_len, uint64_t hash,
                  const void *value)
{
    size_t mask = m->n_slots - 1;
    size_t i, j, home;

    if (key == NULL)
        key = "";
    i = find_slot(m, hash, key, key_len);
    if (m->slots[i].key == NULL || (value != NULL && m->slots[i].value != value))
        return false;
    /* Backward-shift deletion (Knuth 6.4 Algorithm R): move later entries
     * of the probe run into the hole when their home slot allows it. */
    j = i;
    for (;;) {
        m->slots[i].key = NULL;
        for (;;) {
            j = (j + 1) & mask;
            if (m->slots[j].key == NULL) {
                m->count--;
                return true;
            }
            home = (size_t)m->slots[j].hash & mask;
            /* the entry at j may move to i unless its home lies in (i, j] */
            if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
                continue;
            break;
        }
        m->slots[i] = m->slots[j];
        i = j;
    }
}

bool sl_map_next(const struct sl_map *m, size_t *pos, const void **key, size_t *key_len,
                 void **value)
{
    size_t i;

    for (i = *pos; i < m->n_slots; i++) {
        if (m->slots[i].key == NULL)
            continue;
        if (key != NULL)
            *key = m->slots[i].key;
        if (key_len != NULL)
            *key_len = m->slots[i].key_len;
        if (value != NULL)
            *value = m->slots[i].value;
        *pos = i + 1;
        return true;
    }
    *pos = m->n_slots;
    return false;
}
