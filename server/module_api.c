/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The functions lintel/module.h promises modules: config value access,
 * request accessors, responses and logging.  They keep core structures
 * opaque, so the core can change them without breaking compiled modules.
 */
#include "config.h"

#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "body_filter.h"
#include "buf.h"
#include "conf.h"
#include "conn.h"
#include "event.h"
#include "log.h"
#include "module.h"
#include "reply.h"
#include "req_headers.h"
#include "shm.h"
#include "util.h"
#include "var.h"

/* --- config values -------------------------------------------------- */

void
lnt_cf_error(lnt_mod_cf_t *cf, const lnt_setting_t *s, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	const char *mod = lnt_conf_module(cf);

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lnt_conf_error(cf, s, "%s%s%s", mod ? mod : "", mod ? ": " : "", msg);
}

const char *
lnt_setting_string(const lnt_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_STRING ?
	    config_setting_get_string(s) : NULL;
}

int
lnt_setting_int(const lnt_setting_t *s, int64_t *v)
{
	if (config_setting_type(s) == CONFIG_TYPE_INT)
		*v = config_setting_get_int(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT64)
		*v = config_setting_get_int64(s);
	else
		return -1;
	return 0;
}

int
lnt_setting_bool(const lnt_setting_t *s, bool *v)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return -1;
	*v = config_setting_get_bool(s) != 0;
	return 0;
}

int
lnt_setting_length(const lnt_setting_t *s)
{
	return config_setting_length(s);
}

const lnt_setting_t *
lnt_setting_elem(const lnt_setting_t *s, int i)
{
	return i < 0 ? NULL : config_setting_get_elem(s, (unsigned)i);
}

const lnt_setting_t *
lnt_setting_member(const lnt_setting_t *s, const char *name)
{
	return config_setting_type(s) == CONFIG_TYPE_GROUP ?
	    config_setting_get_member(s, name) : NULL;
}

bool
lnt_setting_is_group(const lnt_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_GROUP;
}

bool
lnt_setting_is_list(const lnt_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_LIST ||
	    config_setting_type(s) == CONFIG_TYPE_ARRAY;
}

const char *
lnt_setting_name(const lnt_setting_t *s)
{
	return config_setting_name(s);
}

int
lnt_setting_line(const lnt_setting_t *s, const char **file)
{
	int line = (int)config_setting_source_line(s);

	if (file != NULL)
		*file = line > 0 ? config_setting_source_file(s) : NULL;
	return line > 0 ? line : 0;
}

char *
lnt_cf_path(lnt_mod_cf_t *cf, const char *path)
{
	return lnt_conf_path(cf, path);
}

/* --- requests ------------------------------------------------------- */

static const char *
slice(lnt_str_t s, size_t *len)
{
	*len = s.len;
	return s.p;
}

const char *
lnt_req_method(const lnt_req_t *r, size_t *len)
{
	return slice(r->req.method, len);
}

const char *
lnt_req_path(const lnt_req_t *r, size_t *len)
{
	return slice(r->req.path, len);
}

const char *
lnt_req_query(const lnt_req_t *r, size_t *len)
{
	return slice(r->req.query, len);
}

const char *
lnt_req_host(const lnt_req_t *r, size_t *len)
{
	return slice(r->req.host, len);
}

const char *
lnt_req_remote_addr(const lnt_req_t *r)
{
	return r->peer;
}

const char *
lnt_req_peer_addr(const lnt_req_t *r)
{
	return r->peer;
}

const char *
lnt_req_proxy_protocol_addr(const lnt_req_t *r)
{
	return r->pp_addr[0] != '\0' ? r->pp_addr : NULL;
}

const char *
lnt_req_header(const lnt_req_t *r, const char *name, size_t *len)
{
	return lnt_req_header_nth(r, name, 0, len);
}

const char *
lnt_req_header_nth(const lnt_req_t *r, const char *name, unsigned n,
    size_t *len)
{
	size_t ignored;

	return lnt_req_hdr_nth(r, name, n, len != NULL ? len : &ignored);
}

int
lnt_req_add_header(lnt_req_t *r, const char *name, const char *value)
{
	return value != NULL ? lnt_req_hdr_change(r, name, value, false) : -1;
}

int
lnt_req_set_header(lnt_req_t *r, const char *name, const char *value)
{
	return lnt_req_hdr_change(r, name, value, true);
}

int
lnt_req_respond(lnt_req_t *r, int status, const char *content_type,
    const void *body, size_t len)
{
	lnt_reply_t *reply;

	/* Not from a filter: r->out may hold the body going out. */
	if (lnt_bf_answer_too_late(r))
		return -1;
	/* The reply sends from memory that lives as long as the request. */
	lnt_buf_put(r->out);
	if ((r->out = lnt_buf_get(len)) == NULL)
		return -1;
	memcpy(r->out->last, body, len);
	r->out->last += len;
	if ((reply = lnt_reply_start(r, status, 256)) == NULL)
		return -1;
	lnt_reply_body(reply, r->out->pos, len, content_type);
	lnt_reply_send(r, reply);
	return 0;
}

void
lnt_req_fail(lnt_req_t *r, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lnt_conn_respond(r, status, msg);
}

int
lnt_resp_status(const lnt_req_t *r)
{
	return r->status;
}

int
lnt_resp_add_header(lnt_req_t *r, const char *name, const char *value)
{
	size_t need = strlen(name) + strlen(value) + 4;

	if (*name == '\0' || strpbrk(name, " \t\r\n:") != NULL)
		return -1;
	for (const char *p = value; *p; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return -1;	/* no header injection */
	}
	if (r->resp_extra == NULL && (r->resp_extra = lnt_buf_get(0)) == NULL)
		return -1;
	if (lnt_buf_room(r->resp_extra) <= need)
		return -1;
	r->resp_extra->last += snprintf(r->resp_extra->last,
	    lnt_buf_room(r->resp_extra), "%s: %s\r\n", name, value);
	return 0;
}

int
lnt_req_set_uri(lnt_req_t *r, const char *path, size_t plen,
    const char *query, size_t qlen, bool reroute)
{
	size_t need = plen + (query != NULL ? 1 + qlen : 0);
	lnt_buf_t *b;

	if (plen == 0 || path[0] != '/' || need > LNT_BUF_SIZE)
		return -1;
	/* Both go into the request line sent upstream: no spaces, no
	 * controls, no way to smuggle a second line. */
	for (size_t i = 0; i < plen + (query ? qlen : 0); i++) {
		unsigned char ch = (unsigned char)(i < plen ? path[i] :
		    query[i - plen]);

		if (ch <= 0x20 || ch == 0x7f)
			return -1;
	}
	/* A fresh buffer: the new URI may be built from the old one. */
	if ((b = lnt_buf_get(0)) == NULL)
		return -1;
	memcpy(b->last, path, plen);
	if (query != NULL) {
		b->last[plen] = '?';
		memcpy(b->last + plen + 1, query, qlen);
	}
	b->last += need;
	lnt_buf_put(r->uri_buf);
	r->uri_buf = b;
	r->req.target = (lnt_str_t){ b->pos, need };
	r->req.path = (lnt_str_t){ b->pos, plen };
	r->req.query = query != NULL ? (lnt_str_t){ b->pos + plen + 1, qlen } :
	    (lnt_str_t){ b->pos + plen, 0 };
	r->reroute |= reroute;
	return 0;
}

int
lnt_req_redirect(lnt_req_t *r, int status, const char *loc, size_t len)
{
	lnt_reply_t *reply;

	if (status != 301 && status != 302 && status != 303 &&
	    status != 307 && status != 308)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)loc[i] < 0x20 || loc[i] == 0x7f)
			return -1;
	}
	if ((reply = lnt_reply_start(r, status, len + 64)) == NULL)
		return -1;
	if (lnt_reply_header(reply, "Location: %.*s", (int)len, loc) == -1) {
		lnt_reply_free(reply);
		return -1;
	}
	lnt_reply_page(reply);
	lnt_reply_send(r, reply);
	return 0;
}

const char *
lnt_req_root(const lnt_req_t *r)
{
	return r->route != NULL ? r->route->root : NULL;
}

const char *
lnt_req_scheme(const lnt_req_t *r)
{
	return lnt_conn_scheme(r).p;
}

const char *
lnt_req_upstream_addr(const lnt_req_t *r, const char **scheme)
{
	if (r->up.pc == NULL && r->up.server == NULL)
		return NULL;
	if (scheme != NULL)
		*scheme = r->up.upstream != NULL && r->up.upstream->tls != NULL ?
		    "https" : "http";
	return r->up.addr;
}

/* The upstream of the routed request, or NULL. */
static const lnt_upstream_t *
req_upstream(const lnt_req_t *r)
{
	/* r->up is the proxy's only while it owns the request: after that
	 * it still holds the previous request's. */
	if (r->state == LNT_CONN_PROXY && r->up.upstream != NULL)
		return r->up.upstream;
	return r->route != NULL ? r->route->upstream : NULL;
}

unsigned
lnt_req_upstream_servers(const lnt_req_t *r)
{
	const lnt_upstream_t *up = req_upstream(r);

	return up != NULL ? (unsigned)up->nservers : 0;
}

const char *
lnt_req_upstream_server(const lnt_req_t *r, unsigned i, int *weight,
    bool *usable)
{
	const lnt_upstream_t *up = req_upstream(r);

	if (up == NULL || i >= up->nservers)
		return NULL;
	if (weight != NULL)
		*weight = up->servers[i].weight;
	/* Nothing is tried before the proxy starts on the request. */
	if (usable != NULL)
		*usable = r->state != LNT_CONN_PROXY ||
		    r->up.tried_set == NULL ||
		    !lnt_tried_has(r->up.tried_set, i);
	return up->servers[i].address;
}

int
lnt_req_select_server(lnt_req_t *r, unsigned i)
{
	lnt_up_t *u = &r->up;

	/* Only while UPSTREAM_SELECT runs: the proxy owns the request and
	 * has not chosen yet. */
	if (r->state != LNT_CONN_PROXY || u->upstream == NULL ||
	    u->server != NULL || i >= u->upstream->nservers)
		return -1;
	if (lnt_tried_has(u->tried_set, i))
		return -1;
	lnt_tried_add(u->tried_set, i);
	u->server = &u->upstream->servers[i];
	return 0;
}

const char *
lnt_resp_header(const lnt_req_t *r, const char *name, size_t *len)
{
	const lnt_http_header_t *h;

	/* Only a proxied response has fields of its own, and only while the
	 * buffer they point into is held (not after a failure freed it). */
	if (r->state != LNT_CONN_PROXY || r->up.resp.status == 0 ||
	    r->up.in == NULL)
		return NULL;
	h = lnt_http_header(&r->up.resp, name, strlen(name));
	return h != NULL ? slice(h->value, len) : NULL;
}

int
lnt_resp_set_header(lnt_req_t *r, const char *name, const char *value)
{
	if (strlen(name) >= sizeof(r->resp_drop[0]) ||
	    r->nresp_drop == LNT_NELEM(r->resp_drop))
		return -1;
	if (lnt_resp_add_header(r, name, value) == -1)
		return -1;
	strcpy(r->resp_drop[r->nresp_drop++], name);
	return 0;
}

/* --- suspending and request memory --------------------------------- */

void
lnt_req_resume(lnt_req_t *r, lnt_mod_rc_t rc)
{
	lnt_conn_resume(r, rc);
}

/* One module's per-request state (lnt_req_set_ctx), in the arena. */
struct lnt_req_ctx_s {
	const lnt_module_t	*mod;
	void			*ctx;
	struct lnt_req_ctx_s	*next;
};

void *
lnt_req_alloc(lnt_req_t *r, size_t size)
{
	void *p = lnt_arena_alloc(&r->arena, size);

	if (p == NULL)
		lnt_conn_log(r, LNT_LOG_ERR, "request arena: cannot allocate "
		    "%zu bytes (at most %d per request)", size,
		    LNT_ARENA_MAX);
	return p;
}

int
lnt_req_cleanup_add(lnt_req_t *r, void (*fn)(void *data), void *data)
{
	return lnt_arena_cleanup_add(&r->arena, fn, data);
}

void *
lnt_req_ctx(const lnt_req_t *r, const lnt_module_t *m)
{
	for (const struct lnt_req_ctx_s *x = r->mctx; x != NULL; x = x->next)
		if (x->mod == m)
			return x->ctx;
	return NULL;
}

int
lnt_req_set_ctx(lnt_req_t *r, const lnt_module_t *m, void *ctx)
{
	struct lnt_req_ctx_s *x;

	for (x = r->mctx; x != NULL; x = x->next)
		if (x->mod == m) {
			x->ctx = ctx;
			return 0;
		}
	if ((x = lnt_req_alloc(r, sizeof(*x))) == NULL)
		return -1;
	x->mod = m;
	x->ctx = ctx;
	x->next = r->mctx;
	r->mctx = x;
	return 0;
}

/* --- variables (var.c) ---------------------------------------------- */

const char *
lnt_req_var(lnt_req_t *r, const char *name, size_t *len)
{
	return lnt_var_get(r, name, len);
}

int
lnt_req_set_var(lnt_req_t *r, const char *name, const char *value,
    size_t len)
{
	return lnt_var_set(r, name, value, len);
}

int
lnt_var_define(lnt_mod_cf_t *cf, const char *name, lnt_var_get_t get,
    void *data)
{
	return lnt_var_add(cf, name, get, data);
}

/* --- timers ----------------------------------------------------------- */

struct lnt_mod_timer_s {
	lnt_timer_t	 timer;		/* on the worker's heap */
	void		(*fn)(void *data);
	void		*data;
	bool		 firing;	/* fn is running: free after it */
};

static void
mod_timer_fire(lnt_timer_t *t)
{
	lnt_mod_timer_t *mt = t->data;

	/* A cancel from inside the call (a cleanup the callback set off)
	 * finds it firing and leaves the freeing to us. */
	mt->firing = true;
	mt->fn(mt->data);
	free(mt);
}

lnt_mod_timer_t *
lnt_mod_timer_add(int64_t msec, void (*fn)(void *data), void *data)
{
	lnt_mod_timer_t *mt;

	if (lnt_loop.epfd == -1 || fn == NULL)
		return NULL;		/* only a worker has a loop */
	if ((mt = calloc(1, sizeof(*mt))) == NULL)
		return NULL;
	mt->fn = fn;
	mt->data = data;
	lnt_timer_init(&mt->timer, mod_timer_fire, mt);
	if (lnt_timer_arm(&lnt_loop.timers, &mt->timer,
	    lnt_loop.now + (msec > 0 ? msec : 0)) == -1) {
		free(mt);
		return NULL;
	}
	return mt;
}

void
lnt_mod_timer_cancel(lnt_mod_timer_t *t)
{
	if (t == NULL || t->firing)
		return;
	lnt_timer_stop(&t->timer);
	free(t);
}

/* --- shared memory and time ---------------------------------------- */

lnt_zone_t *
lnt_zone_get(lnt_mod_cf_t *cf, const char *name, size_t size)
{
	lnt_conf_t *conf = lnt_conf_current(cf);
	lnt_zone_t *z = lnt_shm_get(name, size);

	if (z == NULL) {
		lnt_cf_error(cf, NULL, "cannot create shared zone %s of %zu "
		    "bytes: %s", name, size, strerror(errno));
		return NULL;
	}
	conf->zones = lnt_xrealloc(conf->zones, (conf->nzones + 1) *
	    sizeof(*conf->zones));
	conf->zones[conf->nzones++] = z;
	return z;
}

void *
lnt_zone_data(lnt_zone_t *zone)
{
	return lnt_shm_data(zone);
}

void
lnt_zone_lock(lnt_zone_t *zone)
{
	lnt_shm_lock(zone);
}

void
lnt_zone_unlock(lnt_zone_t *zone)
{
	lnt_shm_unlock(zone);
}

int64_t
lnt_mod_now(void)
{
	/* The loop's time in a worker; a fresh reading elsewhere. */
	return lnt_loop.epfd != -1 ? lnt_loop.now : lnt_now_mono();
}

/* --- logging -------------------------------------------------------- */

void
lnt_req_log(const lnt_req_t *r, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lnt_conn_log(r, level, "%s", msg);
}

void
lnt_mod_log(int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lnt_log(level, "%s", msg);
}
