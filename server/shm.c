/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared-memory zones.  The registry lives in the master (and is inherited
 * by children, who only use the zones); a zone stays mapped while any
 * loaded config holds it, so a reload that keeps a zone keeps its data
 * (rate-limit state survives, and no blocked client gets through).  The
 * lock is a robust process-shared mutex: a worker killed while holding it
 * hands it to the next process instead of wedging all of them.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "log.h"
#include "shm.h"
#include "util.h"

struct lnt_shm_zone_s {
	char		*name;
	size_t		 size;		/* usable bytes */
	void		*map;		/* header + data, shared */
	size_t		 maplen;
	unsigned	 refs;		/* loaded configs holding it */
	lnt_shm_zone_t	*next;
};

/* At the start of every mapping. */
typedef struct zone_head {
	pthread_mutex_t	 lock;
} zone_head_t;

#define HEAD_SIZE	((sizeof(zone_head_t) + 63) & ~(size_t)63)

static lnt_shm_zone_t	*zones;

static int
init_lock(zone_head_t *h)
{
	pthread_mutexattr_t a;
	int rc;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	rc = pthread_mutex_init(&h->lock, &a);
	pthread_mutexattr_destroy(&a);
	return rc;
}

lnt_shm_zone_t *
lnt_shm_get(const char *name, size_t size)
{
	lnt_shm_zone_t *z;
	void *map;
	size_t len = HEAD_SIZE + size;

	for (z = zones; z != NULL; z = z->next) {
		if (strcmp(z->name, name) == 0 && z->size == size) {
			z->refs++;
			return z;
		}
	}
	map = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return NULL;
	if ((errno = init_lock(map)) != 0) {
		munmap(map, len);
		return NULL;
	}
	z = lnt_xcalloc(1, sizeof(*z));
	*z = (lnt_shm_zone_t){ .name = lnt_xstrdup(name), .size = size,
	    .map = map, .maplen = len, .refs = 1, .next = zones };
	zones = z;
	return z;
}

void
lnt_shm_release(lnt_shm_zone_t *zone)
{
	lnt_shm_zone_t **p;

	if (zone == NULL || --zone->refs > 0)
		return;
	for (p = &zones; *p != zone; p = &(*p)->next)
		;
	*p = zone->next;
	/* Children keep their own mappings; this only drops the master's. */
	munmap(zone->map, zone->maplen);
	free(zone->name);
	free(zone);
}

void *
lnt_shm_data(lnt_shm_zone_t *zone)
{
	return (char *)zone->map + HEAD_SIZE;
}

void
lnt_shm_lock(lnt_shm_zone_t *zone)
{
	zone_head_t *h = zone->map;
	int rc = pthread_mutex_lock(&h->lock);

	if (rc == EOWNERDEAD) {
		lnt_log(LNT_LOG_WARN, "shared zone %s: a process died holding "
		    "its lock; taking it over", zone->name);
		pthread_mutex_consistent(&h->lock);
	}
}

void
lnt_shm_unlock(lnt_shm_zone_t *zone)
{
	zone_head_t *h = zone->map;

	pthread_mutex_unlock(&h->lock);
}
