/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A test module for lnt_req_add_header and lnt_req_set_header.  In a route,
 * `reqhdr = ( "set Name: value", "add Name: value", "remove Name" );`
 * changes the request in ACCESS.  The response then tells what the module
 * saw afterwards: X-Reqhdr-Seen lists every value of each changed name as
 * lnt_req_header_nth gives it ("name=v1|v2;"), X-Reqhdr-Refused the changes
 * lintel refused.  `reqhdr_answer = true;` makes ACCESS answer at once and
 * then log whether its request state outlived the answer, as it must.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lintel/module.h"

typedef struct reqhdr_op_s {
	char	*name;
	char	*value;		/* NULL: remove */
	bool	 replace;
} reqhdr_op_t;

typedef struct reqhdr_conf_s {
	reqhdr_op_t	*ops;
	int		 nops;
	bool		 answer;
} reqhdr_conf_t;

typedef struct reqhdr_ctx_s {
	char	seen[1024];
	char	refused[256];
} reqhdr_ctx_t;

extern const lnt_module_t lnt_module_reqhdr;

/* "set N: v", "add N: v" or "remove N" into <op>; -1 if malformed. */
static int
parse_op(const char *text, reqhdr_op_t *op)
{
	const char *colon;

	if (strncmp(text, "remove ", 7) == 0) {
		op->name = strdup(text + 7);
		op->replace = true;
		return op->name != NULL ? 0 : -1;
	}
	if (strncmp(text, "set ", 4) != 0 && strncmp(text, "add ", 4) != 0)
		return -1;
	op->replace = text[0] == 's';
	text += 4;
	if ((colon = strchr(text, ':')) == NULL)
		return -1;
	op->name = strndup(text, (size_t)(colon - text));
	for (colon++; *colon == ' '; colon++)
		;
	op->value = strdup(colon);
	return op->name != NULL && op->value != NULL ? 0 : -1;
}

static int
parse_reqhdr(lnt_mod_cf_t *cf, const lnt_setting_t *s, unsigned scope,
    void *conf)
{
	reqhdr_conf_t *rc = conf;
	int n = lnt_setting_length(s);

	if (!lnt_setting_is_list(s) || n < 1) {
		lnt_cf_error(cf, s, "reqhdr: expected a list of strings");
		return -1;
	}
	if ((rc->ops = calloc((size_t)n, sizeof(*rc->ops))) == NULL)
		return -1;
	for (int i = 0; i < n; i++) {
		const char *text = lnt_setting_string(lnt_setting_elem(s, i));

		if (text == NULL || parse_op(text, &rc->ops[i]) == -1) {
			lnt_cf_error(cf, s, "reqhdr: item %d: expected \"set "
			    "Name: value\", \"add Name: value\" or \"remove "
			    "Name\"", i + 1);
			rc->nops = i + 1;
			return -1;
		}
	}
	rc->nops = n;
	return 0;
}

static int
parse_answer(lnt_mod_cf_t *cf, const lnt_setting_t *s, unsigned scope,
    void *conf)
{
	reqhdr_conf_t *rc = conf;

	if (lnt_setting_bool(s, &rc->answer) == -1) {
		lnt_cf_error(cf, s, "reqhdr_answer: expected true or false");
		return -1;
	}
	return 0;
}

static void
log_cleanup(void *data)
{
	lnt_mod_log(LNT_MOD_LOG_NOTICE, "reqhdr: cleanup of %s", (char *)data);
}

/* Answer, then look at what the request held: it must still be there. */
static lnt_mod_rc_t
answer_then_look(lnt_req_t *r)
{
	reqhdr_ctx_t *ctx = lnt_req_alloc(r, sizeof(*ctx));
	char *tag;

	/* The ctx is the one report() reads: its "seen" holds the tag. */
	if (ctx == NULL || lnt_req_set_ctx(r, &lnt_module_reqhdr, ctx) == -1 ||
	    lnt_req_cleanup_add(r, log_cleanup, ctx->seen) == -1)
		return LNT_MOD_ERROR;
	tag = ctx->seen;
	strcpy(tag, "answered");
	lnt_req_respond(r, 200, "text/plain", "answered\n", 9);
	lnt_mod_log(LNT_MOD_LOG_NOTICE, "reqhdr: after the answer: ctx %s, "
	    "tag %s", lnt_req_ctx(r, &lnt_module_reqhdr) == ctx ? "kept" :
	    "lost", tag);
	return LNT_MOD_DONE;
}

static void *
create_conf(unsigned scope)
{
	return calloc(1, sizeof(reqhdr_conf_t));
}

static void
free_conf(unsigned scope, void *conf)
{
	reqhdr_conf_t *rc = conf;

	for (int i = 0; i < rc->nops; i++) {
		free(rc->ops[i].name);
		free(rc->ops[i].value);
	}
	free(rc->ops);
	free(rc);
}

static void
append(char *dst, size_t size, const char *fmt, const char *a, size_t alen)
{
	size_t used = strlen(dst);

	snprintf(dst + used, size - used, fmt, (int)alen, a);
}

/* Every value of <name> as the API now gives them. */
static void
record_seen(lnt_req_t *r, reqhdr_ctx_t *ctx, const char *name)
{
	const char *v;
	size_t len;

	append(ctx->seen, sizeof(ctx->seen), "%.*s=", name, strlen(name));
	for (unsigned n = 0; (v = lnt_req_header_nth(r, name, n, &len)); n++)
		append(ctx->seen, sizeof(ctx->seen), n ? "|%.*s" : "%.*s", v,
		    len);
	append(ctx->seen, sizeof(ctx->seen), "%.*s", ";", 1);
}

static lnt_mod_rc_t
change(lnt_req_t *r, void *conf)
{
	const reqhdr_conf_t *rc = conf;
	reqhdr_ctx_t *ctx;

	if (rc != NULL && rc->answer)
		return answer_then_look(r);
	if (rc == NULL || rc->nops == 0)
		return LNT_MOD_CONTINUE;
	if ((ctx = lnt_req_alloc(r, sizeof(*ctx))) == NULL ||
	    lnt_req_set_ctx(r, &lnt_module_reqhdr, ctx) == -1) {
		lnt_req_fail(r, 500, "reqhdr: no memory");
		return LNT_MOD_ERROR;
	}
	for (int i = 0; i < rc->nops; i++) {
		const reqhdr_op_t *op = &rc->ops[i];
		int ok = op->replace ?
		    lnt_req_set_header(r, op->name, op->value) :
		    lnt_req_add_header(r, op->name, op->value);

		if (ok == -1)
			append(ctx->refused, sizeof(ctx->refused), "%.*s;",
			    op->name, strlen(op->name));
	}
	for (int i = 0; i < rc->nops; i++)
		record_seen(r, ctx, rc->ops[i].name);
	return LNT_MOD_CONTINUE;
}

static lnt_mod_rc_t
report(lnt_req_t *r, void *conf)
{
	const reqhdr_ctx_t *ctx = lnt_req_ctx(r, &lnt_module_reqhdr);

	if (ctx == NULL)
		return LNT_MOD_CONTINUE;
	lnt_resp_add_header(r, "X-Reqhdr-Seen", ctx->seen);
	if (ctx->refused[0] != '\0')
		lnt_resp_add_header(r, "X-Reqhdr-Refused", ctx->refused);
	return LNT_MOD_CONTINUE;
}

static const lnt_mod_key_t keys[] = {
	{ .name = "reqhdr", .scopes = LNT_MOD_ROUTE, .parse = parse_reqhdr,
	  .def = "none", .help = "request field changes" },
	{ .name = "reqhdr_answer", .scopes = LNT_MOD_ROUTE,
	  .parse = parse_answer, .def = "false",
	  .help = "answer in ACCESS, then check the request state" },
	{ .name = NULL }
};

static const lnt_mod_hook_t hooks[] = {
	{ .phase = LNT_PHASE_ACCESS, .handler = change },
	{ .phase = LNT_PHASE_HEADER_FILTER, .handler = report },
	{ .handler = NULL }
};

const lnt_module_t lnt_module_reqhdr = {
	.abi = LNT_MODULE_ABI,
	.size = sizeof(lnt_module_t),
	.name = "reqhdr",
	.version = "1.0",
	.keys = keys,
	.create_conf = create_conf,
	.free_conf = free_conf,
	.hooks = hooks,
};
