/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A body filter for the tests (57-body-filter), built twice: as "filter"
 * with keys filter_*, and with -DFILTER_NAME=filter2 as "filter2" with
 * keys filter2_*, so two filters can be chained.  In a site or a route:
 *   filter_upper = true;       uppercase every byte as it streams
 *   filter_append = "text";    append text at the end of the body
 *   filter_hold = true;        emit nothing until the end, then it all
 *   filter_fail_after = N;     pass N bytes on, then fail
 *   filter_stretch = N;        emit every byte N times
 *   filter_fail_status = S;    on failing, also lnt_req_fail() with S
 *   filter_header_fail = S;    lnt_req_fail() with S in HEADER_FILTER
 *                              (which may not answer) for a 200
 * A response it asked to filter carries "X-Filter: on" (X-Filter2…), one
 * it could not filter "X-Filter: refused".  Its per-request state lives
 * in the request arena (lnt_req_alloc, lnt_req_ctx).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <lintel/module.h>

#ifndef FILTER_NAME
#define FILTER_NAME	filter
#endif
#define STR_(x)		#x
#define STR(x)		STR_(x)
#define CAT_(a, b)	a##b
#define CAT(a, b)	CAT_(a, b)
#define NAME		STR(FILTER_NAME)
#define DESC		CAT(lnt_module_, FILTER_NAME)

extern const lnt_module_t DESC;

typedef struct filter_conf {
	int		 upper;		/* -1: unset, else 0 or 1 */
	int		 hold;
	const char	*append;	/* NULL: unset */
	bool		 own_append;	/* <append> is ours to free */
	int64_t		 fail_after;	/* -1: unset */
	int64_t		 stretch;	/* -1: unset */
	int64_t		 fail_status;	/* -1: unset */
	int64_t		 header_fail;	/* -1: unset */
} filter_conf_t;

/* Per request, in the request arena. */
typedef struct filter_state {
	uint64_t	 seen;		/* body bytes received */
	bool		 ended;		/* the last call came */
	char		*held;		/* filter_hold: malloc'd */
	size_t		 held_len, held_cap;
} filter_state_t;

static int
parse_flag(lnt_mod_cf_t *cf, const lnt_setting_t *s, int *out)
{
	bool v;

	if (lnt_setting_bool(s, &v) == -1) {
		lnt_cf_error(cf, s, "%s: expected true or false",
		    lnt_setting_name(s));
		return -1;
	}
	*out = v;
	return 0;
}

static int
parse_upper(lnt_mod_cf_t *cf, const lnt_setting_t *s, unsigned scope,
    void *conf)
{
	return parse_flag(cf, s, &((filter_conf_t *)conf)->upper);
}

static int
parse_hold(lnt_mod_cf_t *cf, const lnt_setting_t *s, unsigned scope,
    void *conf)
{
	return parse_flag(cf, s, &((filter_conf_t *)conf)->hold);
}

static int
parse_append(lnt_mod_cf_t *cf, const lnt_setting_t *s, unsigned scope,
    void *conf)
{
	filter_conf_t *fc = conf;
	const char *v = lnt_setting_string(s);

	if (v == NULL) {
		lnt_cf_error(cf, s, "%s: expected a string",
		    lnt_setting_name(s));
		return -1;
	}
	if ((fc->append = strdup(v)) == NULL)
		return -1;
	fc->own_append = true;
	return 0;
}

static int
parse_fail_after(lnt_mod_cf_t *cf, const lnt_setting_t *s, unsigned scope,
    void *conf)
{
	int64_t v;

	if (lnt_setting_int(s, &v) == -1 || v < 0) {
		lnt_cf_error(cf, s, "%s: expected a number of bytes",
		    lnt_setting_name(s));
		return -1;
	}
	((filter_conf_t *)conf)->fail_after = v;
	return 0;
}

static int
parse_stretch(lnt_mod_cf_t *cf, const lnt_setting_t *s, unsigned scope,
    void *conf)
{
	int64_t v;

	if (lnt_setting_int(s, &v) == -1 || v < 1 || v > 1000000) {
		lnt_cf_error(cf, s, "%s: expected a count from 1 to 1000000",
		    lnt_setting_name(s));
		return -1;
	}
	((filter_conf_t *)conf)->stretch = v;
	return 0;
}

static int
parse_fail_status(lnt_mod_cf_t *cf, const lnt_setting_t *s, unsigned scope,
    void *conf)
{
	int64_t v;

	if (lnt_setting_int(s, &v) == -1 || v < 400 || v > 599) {
		lnt_cf_error(cf, s, "%s: expected a status from 400 to 599",
		    lnt_setting_name(s));
		return -1;
	}
	if (strcmp(lnt_setting_name(s), NAME "_header_fail") == 0)
		((filter_conf_t *)conf)->header_fail = v;
	else
		((filter_conf_t *)conf)->fail_status = v;
	return 0;
}

static void *
create_conf(unsigned scope)
{
	filter_conf_t *fc = calloc(1, sizeof(*fc));

	if (fc != NULL) {
		fc->upper = fc->hold = -1;
		fc->fail_after = fc->stretch = fc->fail_status = -1;
		fc->header_fail = -1;
	}
	return fc;
}

static void
merge_conf(const void *parent, void *child)
{
	const filter_conf_t *p = parent;
	filter_conf_t *c = child;

	if (c->upper == -1)
		c->upper = p->upper;
	if (c->hold == -1)
		c->hold = p->hold;
	if (c->fail_after == -1)
		c->fail_after = p->fail_after;
	if (c->stretch == -1)
		c->stretch = p->stretch;
	if (c->fail_status == -1)
		c->fail_status = p->fail_status;
	if (c->header_fail == -1)
		c->header_fail = p->header_fail;
	if (c->append == NULL)
		c->append = p->append;
}

static void
free_conf(unsigned scope, void *conf)
{
	filter_conf_t *fc = conf;

	if (fc->own_append)
		free((void *)(uintptr_t)fc->append);
	free(fc);
}

static bool
wanted(const filter_conf_t *fc)
{
	return fc != NULL && (fc->upper == 1 || fc->hold == 1 ||
	    fc->append != NULL || fc->fail_after >= 0 || fc->stretch > 1);
}

static void
free_held(void *data)
{
	filter_state_t *st = data;

	free(st->held);
	st->held = NULL;
}

/* HEADER_FILTER: ask for the body, with state for this request. */
static lnt_mod_rc_t
ask(lnt_req_t *r, void *conf)
{
	const filter_conf_t *fc = conf;
	filter_state_t *st;

	if (fc != NULL && fc->header_fail != -1 && lnt_resp_status(r) == 200) {
		lnt_req_fail(r, (int)fc->header_fail, NAME ": answering in "
		    "HEADER_FILTER, as configured");
		return LNT_MOD_ERROR;
	}
	if (!wanted(conf))
		return LNT_MOD_CONTINUE;
	if (lnt_resp_filter_body(r, &DESC) == -1) {
		lnt_resp_add_header(r, "X-" NAME, "refused");
		return LNT_MOD_CONTINUE;
	}
	/* A response made after another (an error page) finds it set. */
	if ((st = lnt_req_ctx(r, &DESC)) == NULL) {
		if ((st = lnt_req_alloc(r, sizeof(*st))) == NULL ||
		    lnt_req_set_ctx(r, &DESC, st) == -1 ||
		    lnt_req_cleanup_add(r, free_held, st) == -1)
			return LNT_MOD_CONTINUE;
	}
	free_held(st);
	memset(st, 0, sizeof(*st));
	lnt_resp_add_header(r, "X-" NAME, "on");
	return LNT_MOD_CONTINUE;
}

static int
hold(filter_state_t *st, const char *p, size_t len)
{
	if (st->held_len + len > st->held_cap) {
		size_t cap = st->held_cap ? st->held_cap : 4096;
		char *n;

		while (cap < st->held_len + len)
			cap *= 2;
		if ((n = realloc(st->held, cap)) == NULL)
			return -1;
		st->held = n;
		st->held_cap = cap;
	}
	memcpy(st->held + st->held_len, p, len);
	st->held_len += len;
	return 0;
}

/* Emit each of the <len> bytes at <p> <n> times. */
static int
stretch(lnt_req_t *r, int64_t n, const char *p, size_t len)
{
	char tmp[4096];

	for (size_t i = 0; i < len; i++) {
		for (int64_t left = n; left > 0; ) {
			size_t k = left < (int64_t)sizeof(tmp) ?
			    (size_t)left : sizeof(tmp);

			memset(tmp, p[i], k);
			if (lnt_body_emit(r, tmp, k) == -1)
				return -1;
			left -= (int64_t)k;
		}
	}
	return 0;
}

/* Pass <len> bytes on, uppercased if asked, or keep them. */
static int
pass(lnt_req_t *r, const filter_conf_t *fc, filter_state_t *st,
    const char *p, size_t len)
{
	char tmp[4096];

	if (fc->stretch > 1)
		return stretch(r, fc->stretch, p, len);
	while (len > 0) {
		size_t k = len < sizeof(tmp) ? len : sizeof(tmp);
		const char *out = p;

		if (fc->upper == 1) {
			for (size_t i = 0; i < k; i++)
				tmp[i] = (char)toupper((unsigned char)p[i]);
			out = tmp;
		}
		if ((fc->hold == 1 ? hold(st, out, k) :
		    lnt_body_emit(r, out, k)) == -1)
			return -1;
		p += k;
		len -= k;
	}
	return 0;
}

static lnt_mod_rc_t
body(lnt_req_t *r, void *conf, const void *data, size_t len, bool last)
{
	const filter_conf_t *fc = conf;
	filter_state_t *st = lnt_req_ctx(r, &DESC);

	if (st == NULL || st->ended) {
		/* The core broke its promise: fail the test loudly. */
		lnt_req_log(r, 1, NAME ": body filter called %s",
		    st == NULL ? "without state" : "after the last call");
		return LNT_MOD_ERROR;
	}
	if (fc->fail_after >= 0 && st->seen + len > (uint64_t)fc->fail_after) {
		pass(r, fc, st, data, (size_t)((uint64_t)fc->fail_after -
		    st->seen));
		lnt_req_log(r, LNT_MOD_LOG_WARN, NAME ": failing after %lld "
		    "bytes, as configured", (long long)fc->fail_after);
		/* Too late to answer: the core must not try. */
		if (fc->fail_status != -1)
			lnt_req_fail(r, (int)fc->fail_status, NAME ": failing "
			    "with a status, as configured");
		return LNT_MOD_ERROR;
	}
	st->seen += len;
	if (pass(r, fc, st, data, len) == -1)
		return LNT_MOD_ERROR;
	if (!last)
		return LNT_MOD_CONTINUE;
	st->ended = true;
	if (fc->hold == 1 && st->held_len > 0 &&
	    lnt_body_emit(r, st->held, st->held_len) == -1)
		return LNT_MOD_ERROR;
	if (fc->append != NULL &&
	    lnt_body_emit(r, fc->append, strlen(fc->append)) == -1)
		return LNT_MOD_ERROR;
	return LNT_MOD_CONTINUE;
}

static const lnt_mod_key_t keys[] = {
	{ .name = NAME "_upper", .scopes = LNT_MOD_SITE | LNT_MOD_ROUTE,
	  .parse = parse_upper, .def = "false",
	  .help = "uppercase the response body" },
	{ .name = NAME "_append", .scopes = LNT_MOD_SITE | LNT_MOD_ROUTE,
	  .parse = parse_append, .def = "none",
	  .help = "text appended to the response body" },
	{ .name = NAME "_hold", .scopes = LNT_MOD_SITE | LNT_MOD_ROUTE,
	  .parse = parse_hold, .def = "false",
	  .help = "emit the body only at its end" },
	{ .name = NAME "_fail_after", .scopes = LNT_MOD_SITE | LNT_MOD_ROUTE,
	  .parse = parse_fail_after, .def = "none",
	  .help = "fail after passing this many bytes" },
	{ .name = NAME "_fail_status", .scopes = LNT_MOD_SITE | LNT_MOD_ROUTE,
	  .parse = parse_fail_status, .def = "none",
	  .help = "status the failing filter answers with (too late)" },
	{ .name = NAME "_header_fail", .scopes = LNT_MOD_SITE | LNT_MOD_ROUTE,
	  .parse = parse_fail_status, .def = "none",
	  .help = "status to answer with in HEADER_FILTER (ignored)" },
	{ .name = NAME "_stretch", .scopes = LNT_MOD_SITE | LNT_MOD_ROUTE,
	  .parse = parse_stretch, .def = "1",
	  .help = "emit every byte this many times" },
	{ .name = NULL }
};

static const lnt_mod_hook_t hooks[] = {
	{ .phase = LNT_PHASE_HEADER_FILTER, .handler = ask },
	{ .phase = LNT_PHASE_BODY_FILTER, .body = body },
	{ .handler = NULL }
};

const lnt_module_t DESC = {
	.abi = LNT_MODULE_ABI,
	.size = sizeof(lnt_module_t),
	.name = NAME,
	.version = "1.0",
	.keys = keys,
	.create_conf = create_conf,
	.merge_conf = merge_conf,
	.free_conf = free_conf,
	.hooks = hooks,
};
