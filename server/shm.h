/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared-memory zones: anonymous shared mappings the master creates before
 * it forks, so every worker sees the same bytes.  A zone is found by name
 * and kept, contents and all, by a reload that asks for the same name and
 * size; each carries a robust process-shared lock.
 */
#ifndef LNT_SHM_H
#define LNT_SHM_H

#include "core.h"

typedef struct lnt_shm_zone_s lnt_shm_zone_t;

/*
 * The zone <name> of <size> usable bytes: the existing one if a loaded
 * config already holds it with that size, else a new zeroed one.  The
 * caller's config takes a reference, given back by lnt_shm_release().
 * NULL with errno set if the mapping failed.
 */
lnt_shm_zone_t	*lnt_shm_get(const char *name, size_t size);
void		 lnt_shm_release(lnt_shm_zone_t *zone);

/* The zone's usable bytes. */
void		*lnt_shm_data(lnt_shm_zone_t *zone);

/*
 * Lock and unlock the zone.  When a process died holding the lock it is
 * taken over (the data may be half-updated: keep updates small and safe
 * to replay).
 */
void		 lnt_shm_lock(lnt_shm_zone_t *zone);
void		 lnt_shm_unlock(lnt_shm_zone_t *zone);

#endif /* LNT_SHM_H */
