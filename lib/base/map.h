/*
 * map.h: a hash map from byte-string keys to pointers.
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones); the table doubles when it is three quarters full.  Keys are
 * hashed with SipHash-1-3 under a per-map random key, so a crafted capture
 * cannot force collisions (hash flooding).  Iteration order therefore differs
 * between runs: never let it decide what the program outputs.
 *
 * Keys are BORROWED: the map stores the caller's key pointer, which must stay
 * valid and unchanged while the entry exists (typically the key lives inside
 * the value object, and the entry is deleted before the object is freed).
 * The number of entries is capped (input-driven allocation, STYLE.md 5.3.7).
 */
#ifndef SL_BASE_MAP_H
#define SL_BASE_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_map;

/* Creates an empty map holding at most max_entries entries (0 = no cap other
 * than memory).  NULL when out of memory.  Free with sl_map_free. */
struct sl_map *sl_map_new(size_t max_entries);

/* Frees the map (not the keys or values).  Accepts NULL. */
void sl_map_free(struct sl_map *m);

/* Number of entries. */
size_t sl_map_count(const struct sl_map *m);

/* The value stored under the key_len bytes at key, or NULL. */
void *sl_map_get(const struct sl_map *m, const void *key, size_t key_len);

/* Stores value (not NULL) under key.  An existing entry with an equal key is
 * replaced, key pointer included (the new key must then be the one kept
 * alive); its old value goes to *old when old is not NULL (else *old = NULL).
 * Returns SL_OK, SL_ELIMIT (a new key while the map holds max_entries) or
 * SL_ENOMEM; on failure the map is unchanged. */
int sl_map_put(struct sl_map *m, const void *key, size_t key_len, void *value, void **old);

/* Removes the entry under key when its value is value (or any value when
 * value is NULL).  Returns true when an entry was removed. */
bool sl_map_del(struct sl_map *m, const void *key, size_t key_len, const void *value);

/* The same with the key's hash computed once by sl_map_hash (for a caller
 * that looks up, stores and deletes one key: hashing long keys is the cost). */
uint64_t sl_map_hash(const struct sl_map *m, const void *key, size_t key_len);
void *sl_map_get_h(const struct sl_map *m, const void *key, size_t key_len, uint64_t hash);
int sl_map_put_h(struct sl_map *m, const void *key, size_t key_len, uint64_t hash, void *value,
                 void **old);
bool sl_map_del_h(struct sl_map *m, const void *key, size_t key_len, uint64_t hash,
                  const void *value);

/* Iteration: start with *pos = 0; each call returns true with the next
 * entry, false at the end.  The map must not change during an iteration. */
bool sl_map_next(const struct sl_map *m, size_t *pos, const void **key, size_t *key_len,
                 void **value);

/* SipHash-2-4 of the n bytes at p under the 128-bit key (k0, k1).  With a
 * fixed key it is a deterministic 64-bit fingerprint. */
uint64_t sl_siphash(const void *p, size_t n, uint64_t k0, uint64_t k1);

#endif /* SL_BASE_MAP_H */
