/* SPDX-License-Identifier: BSD-2-Clause */
/* Startup-time allocation that aborts on failure, and small string helpers. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util.h"

static void
out_of_memory(size_t size)
{
	fprintf(stderr, "lintel: out of memory allocating %zu bytes\n", size);
	abort();
}

void *
lnt_xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		out_of_memory(size);
	return p;
}

void *
lnt_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		out_of_memory(n * size);
	return p;
}

void *
lnt_xrealloc(void *old, size_t size)
{
	void *p = realloc(old, size ? size : 1);

	if (p == NULL)
		out_of_memory(size);
	return p;
}

char *
lnt_xstrdup(const char *s)
{
	return lnt_xstrndup(s, strlen(s));
}

char *
lnt_xstrndup(const char *s, size_t len)
{
	char *p = lnt_xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static char *
xvasprintf(const char *fmt, va_list ap)
{
	va_list ap2;
	int len;
	char *p;

	va_copy(ap2, ap);
	len = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (len < 0)
		out_of_memory(0);
	p = lnt_xmalloc((size_t)len + 1);
	vsnprintf(p, (size_t)len + 1, fmt, ap);
	return p;
}

char *
lnt_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void
lnt_strlist_addf(lnt_strlist_t *list, const char *fmt, ...)
{
	va_list ap;

	if (list->n == list->cap) {
		list->cap = list->cap ? list->cap * 2 : 8;
		list->items = lnt_xrealloc(list->items,
		    list->cap * sizeof(*list->items));
	}
	va_start(ap, fmt);
	list->items[list->n++] = xvasprintf(fmt, ap);
	va_end(ap);
}

void
lnt_strlist_free(lnt_strlist_t *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->n = list->cap = 0;
}

bool
lnt_str_ieq(lnt_str_t a, const char *b)
{
	return strlen(b) == a.len && strncasecmp(a.p, b, a.len) == 0;
}

lnt_msec_t
lnt_now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (lnt_msec_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

lnt_msec_t
lnt_now_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (lnt_msec_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
lnt_zero_but(void *obj, size_t size, const void *hole, size_t hole_len)
{
	char *p = obj;
	size_t before = (size_t)((const char *)hole - p);

	memset(p, 0, before);
	memset(p + before + hole_len, 0, size - before - hole_len);
}
