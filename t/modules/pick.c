/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A test module for LNT_PHASE_UPSTREAM_SELECT.  In an upstream,
 * `pick_header = "X-Pick";` makes it read that request header: a list of
 * server indexes ("2,1") of which the first one still usable is chosen, or
 * "none" to refuse the request with 503.  Each choice is logged at notice
 * level, so tests can see every attempt.
 */
#include <stdlib.h>
#include <string.h>

#include "lintel/module.h"

typedef struct pick_conf_s {
	char	*header;
} pick_conf_t;

static int
parse_header(lnt_mod_cf_t *cf, const lnt_setting_t *s, unsigned scope,
    void *conf)
{
	pick_conf_t *pc = conf;
	const char *name = lnt_setting_string(s);

	if (name == NULL || *name == '\0') {
		lnt_cf_error(cf, s, "pick_header: expected a header name");
		return -1;
	}
	free(pc->header);
	pc->header = strdup(name);
	return pc->header != NULL ? 0 : -1;
}

static void *
create_conf(unsigned scope)
{
	return calloc(1, sizeof(pick_conf_t));
}

static void
free_conf(unsigned scope, void *conf)
{
	pick_conf_t *pc = conf;

	free(pc->header);
	free(pc);
}

/* The first usable server of the list <v>, <len>; -1 if none is. */
static int
first_usable(lnt_req_t *r, const char *v, size_t len)
{
	const char *end = v + len;

	while (v < end) {
		char *next;
		unsigned long i = strtoul(v, &next, 10);
		bool usable = false;

		if (next == v)
			return -1;
		if (lnt_req_upstream_server(r, (unsigned)i, NULL,
		    &usable) != NULL && usable)
			return (int)i;
		v = next;
		while (v < end && (*v == ',' || *v == ' '))
			v++;
	}
	return -1;
}

static lnt_mod_rc_t
pick(lnt_req_t *r, void *conf)
{
	const pick_conf_t *pc = conf;
	const char *v;
	size_t len;
	int i;

	if (pc == NULL || pc->header == NULL ||
	    (v = lnt_req_header(r, pc->header, &len)) == NULL)
		return LNT_MOD_CONTINUE;
	if (len == 4 && memcmp(v, "none", 4) == 0) {
		lnt_req_fail(r, 503, "pick: no server wanted");
		return LNT_MOD_ERROR;
	}
	if ((i = first_usable(r, v, len)) == -1) {
		lnt_req_log(r, LNT_MOD_LOG_NOTICE, "pick: none usable of %u",
		    lnt_req_upstream_servers(r));
		return LNT_MOD_CONTINUE;
	}
	if (lnt_req_select_server(r, (unsigned)i) == -1) {
		lnt_req_log(r, LNT_MOD_LOG_ERR, "pick: %d refused", i);
		return LNT_MOD_CONTINUE;
	}
	lnt_req_log(r, LNT_MOD_LOG_NOTICE, "pick: chose %d (%s) of %u", i,
	    lnt_req_upstream_server(r, (unsigned)i, NULL, NULL),
	    lnt_req_upstream_servers(r));
	return LNT_MOD_CONTINUE;
}

static const lnt_mod_key_t keys[] = {
	{ .name = "pick_header", .scopes = LNT_MOD_UPSTREAM,
	  .parse = parse_header, .def = "none",
	  .help = "request header listing the servers to choose" },
	{ .name = NULL }
};

static const lnt_mod_hook_t hooks[] = {
	{ .phase = LNT_PHASE_UPSTREAM_SELECT, .handler = pick },
	{ .handler = NULL }
};

const lnt_module_t lnt_module_pick = {
	.abi = LNT_MODULE_ABI,
	.size = sizeof(lnt_module_t),
	.name = "pick",
	.version = "1.0",
	.keys = keys,
	.create_conf = create_conf,
	.free_conf = free_conf,
	.hooks = hooks,
};
