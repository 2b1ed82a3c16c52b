/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A test module for 52-phases: it leaves a trail of the phases a request
 * went through in its per-request state (request arena and ctx), suspends
 * ACCESS for `phases_delay` ms and resumes from a timer, defines the
 * variables $phases_calls (computed) and $phases_note (set per request),
 * can refuse connections (CONNECT) and reloads, and logs its cleanups at
 * notice level so the test can see them.
 *
 * Keys: phases_delay = ms (site, route); phases_resume = "continue" |
 * "answer" | "nothing" (what the timer does: resume, answer then resume
 * with DONE, or resume with DONE without answering) | "early" (ACCESS
 * resumes at once, then returns SUSPEND); phases_content =
 * true (route: CONTENT answers with the trail and variables);
 * phases_refuse_connect = true and phases_refuse_reload = true (top).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lintel/module.h>

enum resume_how { RESUME_UNSET = -1, RESUME_CONTINUE, RESUME_ANSWER,
    RESUME_NOTHING, RESUME_EARLY };

typedef struct phases_conf {
	int64_t		 delay;		/* ms; -1 unset, 0 none */
	int		 resume;	/* enum resume_how */
	int		 content;	/* -1 unset */
	int		 refuse_connect;
} phases_conf_t;

/* The request's state, in its arena. */
typedef struct phases_ctx {
	lnt_req_t	*r;
	char		 trail[256];
	unsigned	 calls;
	lnt_mod_timer_t	*timer;		/* pending resume, or NULL */
	char		 uri[128];	/* for the cleanup's log line */
	int		 resume;
} phases_ctx_t;

extern const lnt_module_t lnt_module_phases;

/* Set by phases_refuse_reload while a config is read; reset in preconfig
 * so a config without the key accepts the reload. */
static int	refuse_reload;

static int
parse_delay(lnt_mod_cf_t *cf, const lnt_setting_t *s, unsigned scope,
    void *conf)
{
	int64_t v;

	if (lnt_setting_int(s, &v) == -1 || v < 0) {
		lnt_cf_error(cf, s, "phases_delay: expected milliseconds");
		return -1;
	}
	((phases_conf_t *)conf)->delay = v;
	return 0;
}

static int
parse_resume(lnt_mod_cf_t *cf, const lnt_setting_t *s, unsigned scope,
    void *conf)
{
	static const char *const words[] = { "continue", "answer", "nothing",
	    "early" };
	const char *w = lnt_setting_string(s);

	for (int i = 0; w != NULL && i < 4; i++)
		if (strcmp(w, words[i]) == 0) {
			((phases_conf_t *)conf)->resume = i;
			return 0;
		}
	lnt_cf_error(cf, s, "phases_resume: expected \"continue\", "
	    "\"answer\", \"nothing\" or \"early\"");
	return -1;
}

static int
parse_bool(lnt_mod_cf_t *cf, const lnt_setting_t *s, int *out)
{
	bool b;

	if (lnt_setting_bool(s, &b) == -1) {
		lnt_cf_error(cf, s, "%s: expected true or false",
		    lnt_setting_name(s));
		return -1;
	}
	*out = b;
	return 0;
}

static int
parse_content(lnt_mod_cf_t *cf, const lnt_setting_t *s, unsigned scope,
    void *conf)
{
	return parse_bool(cf, s, &((phases_conf_t *)conf)->content);
}

static int
parse_refuse_connect(lnt_mod_cf_t *cf, const lnt_setting_t *s,
    unsigned scope, void *conf)
{
	return parse_bool(cf, s, &((phases_conf_t *)conf)->refuse_connect);
}

static int
parse_refuse_reload(lnt_mod_cf_t *cf, const lnt_setting_t *s,
    unsigned scope, void *conf)
{
	return parse_bool(cf, s, &refuse_reload);
}

static void *
create_conf(unsigned scope)
{
	phases_conf_t *pc = malloc(sizeof(*pc));

	if (pc != NULL)
		*pc = (phases_conf_t){ -1, RESUME_UNSET, -1, -1 };
	return pc;
}

static void
merge_conf(const void *parent, void *child)
{
	const phases_conf_t *p = parent;
	phases_conf_t *c = child;

	if (c->delay == -1)
		c->delay = p->delay;
	if (c->resume == RESUME_UNSET)
		c->resume = p->resume;
	if (c->content == -1)
		c->content = p->content;
	if (c->refuse_connect == -1)
		c->refuse_connect = p->refuse_connect;
}

static void
free_conf(unsigned scope, void *conf)
{
	free(conf);
}

static void
trail(phases_ctx_t *x, const char *step)
{
	size_t n = strlen(x->trail);

	snprintf(x->trail + n, sizeof(x->trail) - n, "%s%s", n ? "," : "",
	    step);
	x->calls++;
}

/* Runs however the request ends: a pending timer must not fire later. */
static void
cleanup(void *data)
{
	phases_ctx_t *x = data;

	lnt_mod_log(LNT_MOD_LOG_NOTICE, "phases: cleanup of %s after %s%s",
	    x->uri, x->trail, x->timer != NULL ? " (timer cancelled)" : "");
	lnt_mod_timer_cancel(x->timer);
	x->timer = NULL;
}

static phases_ctx_t *
ctx_of(lnt_req_t *r)
{
	return lnt_req_ctx(r, &lnt_module_phases);
}

static lnt_mod_rc_t
on_connect(lnt_req_t *r, void *conf)
{
	const phases_conf_t *pc = conf;

	if (pc != NULL && pc->refuse_connect == 1) {
		lnt_mod_log(LNT_MOD_LOG_NOTICE, "phases: refusing %s",
		    lnt_req_remote_addr(r));
		return LNT_MOD_DONE;
	}
	return LNT_MOD_CONTINUE;
}

static lnt_mod_rc_t
on_post_read(lnt_req_t *r, void *conf)
{
	phases_ctx_t *x = lnt_req_alloc(r, sizeof(*x));
	const char *path;
	size_t len;

	if (x == NULL || lnt_req_set_ctx(r, &lnt_module_phases, x) == -1 ||
	    lnt_req_cleanup_add(r, cleanup, x) == -1) {
		lnt_req_fail(r, 500, "phases: out of memory");
		return LNT_MOD_ERROR;
	}
	x->r = r;
	path = lnt_req_path(r, &len);
	snprintf(x->uri, sizeof(x->uri), "%.*s", (int)len, path);
	trail(x, "post_read");
	return LNT_MOD_CONTINUE;
}

static lnt_mod_rc_t
on_rewrite(lnt_req_t *r, void *conf)
{
	trail(ctx_of(r), "rewrite");
	return LNT_MOD_CONTINUE;
}

static void
timer_fired(void *data)
{
	phases_ctx_t *x = data;
	lnt_req_t *r = x->r;

	x->timer = NULL;
	trail(x, "resumed");
	lnt_req_set_var(r, "phases_note", "resumed", 7);
	switch (x->resume) {
	case RESUME_ANSWER:
		lnt_req_respond(r, 200, "text/plain", "answered while "
		    "suspended\n", 25);
		lnt_req_resume(r, LNT_MOD_DONE);
		break;
	case RESUME_NOTHING:
		lnt_req_resume(r, LNT_MOD_DONE);
		break;
	default:
		lnt_req_resume(r, LNT_MOD_CONTINUE);
		break;
	}
}

static lnt_mod_rc_t
on_access(lnt_req_t *r, void *conf)
{
	const phases_conf_t *pc = conf;
	phases_ctx_t *x = ctx_of(r);

	trail(x, "access");
	lnt_req_set_var(r, "phases_note", "direct", 6);
	if (pc != NULL && pc->resume == RESUME_EARLY) {
		/* Resumed before the handler even returns. */
		lnt_req_resume(r, LNT_MOD_CONTINUE);
		return LNT_MOD_SUSPEND;
	}
	if (pc == NULL || pc->delay <= 0)
		return LNT_MOD_CONTINUE;
	x->resume = pc->resume;
	if ((x->timer = lnt_mod_timer_add(pc->delay, timer_fired, x)) ==
	    NULL) {
		lnt_req_fail(r, 500, "phases: no timer");
		return LNT_MOD_ERROR;
	}
	lnt_req_log(r, LNT_MOD_LOG_NOTICE, "phases: suspended %s for %lld ms",
	    x->uri, (long long)pc->delay);
	return LNT_MOD_SUSPEND;
}

/* After the suspending handler: runs once it resumed. */
static lnt_mod_rc_t
on_access_after(lnt_req_t *r, void *conf)
{
	trail(ctx_of(r), "access_after");
	return LNT_MOD_CONTINUE;
}

static const char *
var_or_dash(lnt_req_t *r, const char *name)
{
	const char *v = lnt_req_var(r, name, NULL);

	return v != NULL ? v : "-";
}

static lnt_mod_rc_t
on_content(lnt_req_t *r, void *conf)
{
	const phases_conf_t *pc = conf;
	phases_ctx_t *x = ctx_of(r);
	char body[1024];
	int n;

	trail(x, "content");
	if (pc == NULL || pc->content != 1)
		return LNT_MOD_CONTINUE;
	n = snprintf(body, sizeof(body), "trail=%s\ncalls=%s\nnote=%s\n"
	    "host=%s\nuri=%s\nargs=%s\nua=%s\nremote=%s\nmethod=%s\n",
	    x->trail, var_or_dash(r, "phases_calls"),
	    var_or_dash(r, "phases_note"), var_or_dash(r, "host"),
	    var_or_dash(r, "uri"), var_or_dash(r, "args"),
	    var_or_dash(r, "http_user_agent"),
	    var_or_dash(r, "remote_addr"), var_or_dash(r, "request_method"));
	if (lnt_req_respond(r, 200, "text/plain", body, (size_t)n) == -1) {
		lnt_req_fail(r, 500, "phases: cannot answer");
		return LNT_MOD_ERROR;
	}
	return LNT_MOD_DONE;
}

static lnt_mod_rc_t
on_header_filter(lnt_req_t *r, void *conf)
{
	phases_ctx_t *x = ctx_of(r);

	if (x != NULL)
		lnt_resp_add_header(r, "X-Phases-Trail", x->trail);
	return LNT_MOD_CONTINUE;
}

/* $phases_calls: how many of this module's handlers ran so far. */
static const char *
get_calls(lnt_req_t *r, void *data, size_t *len)
{
	phases_ctx_t *x = ctx_of(r);
	char *buf;

	if (x == NULL || (buf = lnt_req_alloc(r, 16)) == NULL)
		return NULL;
	*len = (size_t)snprintf(buf, 16, "%u", x->calls);
	return buf;
}

static int
preconfig(lnt_mod_cf_t *cf)
{
	refuse_reload = 0;
	if (lnt_var_define(cf, "phases_calls", get_calls, NULL) == -1 ||
	    lnt_var_define(cf, "phases_note", NULL, NULL) == -1)
		return -1;
	return 0;
}

static int
reload(lnt_mod_cf_t *cf)
{
	if (refuse_reload == 1) {
		lnt_cf_error(cf, NULL, "phases_refuse_reload is set");
		return -1;
	}
	return 0;
}

static const lnt_mod_key_t keys[] = {
	{ .name = "phases_delay", .scopes = LNT_MOD_SITE | LNT_MOD_ROUTE,
	  .parse = parse_delay, .def = "0",
	  .help = "suspend ACCESS this many ms" },
	{ .name = "phases_resume", .scopes = LNT_MOD_SITE | LNT_MOD_ROUTE,
	  .parse = parse_resume, .def = "continue",
	  .help = "what the timer does: continue, answer, nothing; early" },
	{ .name = "phases_content", .scopes = LNT_MOD_ROUTE,
	  .parse = parse_content, .def = "false",
	  .help = "answer with the trail and variables" },
	{ .name = "phases_refuse_connect", .scopes = LNT_MOD_TOP,
	  .parse = parse_refuse_connect, .def = "false",
	  .help = "close every connection in CONNECT" },
	{ .name = "phases_refuse_reload", .scopes = LNT_MOD_TOP,
	  .parse = parse_refuse_reload, .def = "false",
	  .help = "refuse a reload to this config" },
	{ .name = NULL }
};

static const lnt_mod_hook_t hooks[] = {
	{ .phase = LNT_PHASE_CONNECT, .handler = on_connect },
	{ .phase = LNT_PHASE_POST_READ, .handler = on_post_read },
	{ .phase = LNT_PHASE_REWRITE, .handler = on_rewrite },
	{ .phase = LNT_PHASE_ACCESS, .handler = on_access, .order = 0 },
	{ .phase = LNT_PHASE_ACCESS, .handler = on_access_after, .order = 10 },
	{ .phase = LNT_PHASE_CONTENT, .handler = on_content },
	{ .phase = LNT_PHASE_HEADER_FILTER, .handler = on_header_filter },
	{ 0 }
};

const lnt_module_t lnt_module_phases = {
	.abi = LNT_MODULE_ABI,
	.size = sizeof(lnt_module_t),
	.name = "phases",
	.version = "1.0",
	.keys = keys,
	.create_conf = create_conf,
	.merge_conf = merge_conf,
	.free_conf = free_conf,
	.preconfig = preconfig,
	.reload = reload,
	.hooks = hooks,
};
