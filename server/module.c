/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Loadable modules, core side.  The master dlopen()s the modules named in
 * the config before anything else in the file is read, so every key a
 * module owns is recognised wherever it appears; workers inherit them with
 * fork().  Each module keeps one config per scope object (top level, site,
 * route, upstream), created by its create_conf and filled by its keys,
 * then merged downwards once the file is read.
 */
#include "config.h"

#include <dlfcn.h>
#include <libconfig.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conn.h"
#include "log.h"
#include "module.h"
#include "shm.h"
#include "util.h"
#include "var.h"
#include "worker.h"

/* LNT_SCOPE_* bit to LNT_MOD_* bit; 0 for scopes modules cannot use. */
static unsigned
mod_scope(unsigned scope)
{
	switch (scope) {
	case LNT_SCOPE_TOP:
		return LNT_MOD_TOP;
	case LNT_SCOPE_SITE:
		return LNT_MOD_SITE;
	case LNT_SCOPE_ROUTE:
		return LNT_MOD_ROUTE;
	case LNT_SCOPE_UPSTREAM:
		return LNT_MOD_UPSTREAM;
	default:
		return 0;
	}
}

/* The mconf array of scope object <base>. */
static void ***
mconf_of(unsigned scope, void *base)
{
	switch (scope) {
	case LNT_SCOPE_TOP:
		return &((lnt_conf_t *)base)->mconf;
	case LNT_SCOPE_SITE:
		return &((lnt_site_t *)base)->mconf;
	case LNT_SCOPE_ROUTE:
		return &((lnt_route_t *)base)->mconf;
	case LNT_SCOPE_UPSTREAM:
		return &((lnt_upstream_t *)base)->mconf;
	default:
		return NULL;
	}
}

/* The config of module <i> for <base>, created on first use. */
static void *
mconf_get(lnt_conf_t *conf, unsigned scope, void *base, size_t i)
{
	void ***arr = mconf_of(scope, base);
	const lnt_module_t *d = conf->mods[i].desc;

	if (*arr == NULL)
		*arr = lnt_xcalloc(conf->nmods, sizeof(void *));
	if ((*arr)[i] == NULL && d->create_conf != NULL)
		(*arr)[i] = d->create_conf(mod_scope(scope));
	return (*arr)[i];
}

static char *
module_file(lnt_cf_t *cf, const char *dir, const char *name)
{
	if (strchr(name, '/') != NULL)
		return lnt_conf_path(cf, name);
	return lnt_xasprintf("%s/%s.so", dir, name);
}

/* "lnt_module_" + the file's base name without ".so". */
static char *
symbol_for(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t len;

	base = base ? base + 1 : path;
	len = strlen(base);
	if (len > 3 && strcmp(base + len - 3, ".so") == 0)
		len -= 3;
	return lnt_xasprintf("lnt_module_%.*s", (int)len, base);
}

static const lnt_module_t *
open_module(lnt_cf_t *cf, config_setting_t *e, const char *path, void **dl)
{
	const lnt_module_t *d;
	char *sym;

	if ((*dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		lnt_conf_error(cf, e, "modules: cannot load %s", dlerror());
		return NULL;
	}
	sym = symbol_for(path);
	d = dlsym(*dl, sym);
	if (d == NULL)
		lnt_conf_error(cf, e, "modules: %s exports no %s: not a lintel "
		    "module", path, sym);
	else if (d->abi != LNT_MODULE_ABI)
		lnt_conf_error(cf, e, "modules: %s was built for module API "
		    "%u; this lintel has API %u", path, d->abi, LNT_MODULE_ABI);
	else if (d->size != sizeof(lnt_module_t))
		lnt_conf_error(cf, e, "modules: %s has a descriptor of %zu "
		    "bytes; this lintel expects %zu", path, d->size,
		    sizeof(lnt_module_t));
	free(sym);
	if (d == NULL || d->abi != LNT_MODULE_ABI ||
	    d->size != sizeof(lnt_module_t)) {
		dlclose(*dl);
		*dl = NULL;
		return NULL;
	}
	return d;
}

/* A module may own the keys reserved for it, never a core key. */
static bool
takes_core_key(lnt_cf_t *cf, config_setting_t *e, const lnt_module_t *d)
{
	static const unsigned scopes[] = { LNT_SCOPE_TOP, LNT_SCOPE_SITE,
	    LNT_SCOPE_ROUTE, LNT_SCOPE_UPSTREAM };

	for (const lnt_mod_key_t *k = d->keys; k && k->name; k++) {
		for (size_t i = 0; i < LNT_NELEM(scopes); i++) {
			const lnt_key_t *core = lnt_conf_key_find(k->name,
			    scopes[i]);

			if (core != NULL && core->module == NULL) {
				lnt_conf_error(cf, e, "modules: module '%s' "
				    "claims the core key '%s'", d->name,
				    k->name);
				return true;
			}
		}
	}
	return false;
}

/*
 * Module <i>, listed at <e>, is loaded: its preconfig runs before any key
 * is read (the place for lnt_var_define, so templates know the names).
 */
static void
preconfig(lnt_cf_t *cf, size_t i, config_setting_t *e)
{
	const lnt_module_t *d = lnt_conf_current(cf)->mods[i].desc;

	if (d->preconfig == NULL)
		return;
	lnt_conf_set_module(cf, d->name);
	lnt_var_define_begin(cf, i, e);
	if (d->preconfig(cf) == -1)
		lnt_conf_error(cf, e, "module '%s' refused the configuration "
		    "(preconfig)", d->name);
	lnt_var_define_end();
	lnt_conf_set_module(cf, NULL);
}

void
lnt_module_load_all(lnt_cf_t *cf, config_setting_t *root)
{
	lnt_conf_t *conf = lnt_conf_current(cf);
	config_setting_t *list = config_setting_get_member(root, "modules");
	config_setting_t *mp = config_setting_get_member(root, "module_path");
	config_setting_t *e;
	const char *dir = LNT_MODULE_PATH;
	char *dirbuf = NULL;

	if (list == NULL || !config_setting_is_aggregate(list))
		return;		/* the key table reports a wrong type */
	if (mp != NULL && config_setting_get_string(mp) != NULL)
		dir = dirbuf = lnt_conf_path(cf, config_setting_get_string(mp));
	conf->mods = lnt_xcalloc((size_t)config_setting_length(list),
	    sizeof(*conf->mods));
	for (int i = 0; (e = config_setting_get_elem(list, (unsigned)i));
	    i++) {
		const char *name = config_setting_get_string(e);
		lnt_mod_t *m = &conf->mods[conf->nmods];
		const lnt_module_t *d;
		bool dup = false;

		if (name == NULL)
			continue;
		m->path = module_file(cf, dir, name);
		if ((d = open_module(cf, e, m->path, &m->dl)) == NULL) {
			free(m->path);
			continue;
		}
		for (size_t j = 0; j < conf->nmods; j++)
			dup |= strcmp(conf->mods[j].desc->name, d->name) == 0;
		if (dup)
			lnt_conf_error(cf, e, "modules: module '%s' is listed "
			    "twice", d->name);
		if (dup || takes_core_key(cf, e, d)) {
			dlclose(m->dl);
			free(m->path);
			continue;
		}
		m->desc = d;
		conf->nmods++;
		preconfig(cf, conf->nmods - 1, e);
	}
	free(dirbuf);
}

/* Keep <s>, which a module took for the scope object <base>, for -T. */
static void
keep_setting(lnt_conf_t *conf, const config_setting_t *s, unsigned scope,
    const void *base)
{
	conf->mod_settings = lnt_xrealloc(conf->mod_settings,
	    (conf->nmod_settings + 1) * sizeof(*conf->mod_settings));
	conf->mod_settings[conf->nmod_settings++] = (lnt_mod_setting_t){
	    .scope = scope, .base = base,
	    .text = lnt_conf_setting_text(s) };
}

bool
lnt_module_key(lnt_cf_t *cf, config_setting_t *s, const char *name,
    unsigned scope, void *base)
{
	lnt_conf_t *conf = lnt_conf_current(cf);
	unsigned ms = mod_scope(scope);

	for (size_t i = 0; i < conf->nmods; i++) {
		const lnt_module_t *d = conf->mods[i].desc;

		for (const lnt_mod_key_t *k = d->keys; k && k->name; k++) {
			if (strcmp(k->name, name) != 0)
				continue;
			if (!(k->scopes & ms)) {
				lnt_conf_error(cf, s, "%s: key of module '%s' "
				    "not allowed %s", name, d->name,
				    lnt_conf_scope(scope)->where);
				return true;
			}
			lnt_conf_set_module(cf, d->name);
			k->parse(cf, s, ms, mconf_get(conf, scope, base, i));
			lnt_conf_set_module(cf, NULL);
			keep_setting(conf, s, scope, base);
			return true;
		}
	}
	return false;
}

static void
merge_one(lnt_conf_t *conf, size_t i)
{
	const lnt_module_t *d = conf->mods[i].desc;
	void *top = mconf_get(conf, LNT_SCOPE_TOP, conf, i);

	for (size_t u = 0; u < conf->nupstreams; u++)
		mconf_get(conf, LNT_SCOPE_UPSTREAM, &conf->upstreams[u], i);
	for (size_t s = 0; s < conf->nsites; s++) {
		lnt_site_t *site = &conf->sites[s];
		void *sc = mconf_get(conf, LNT_SCOPE_SITE, site, i);

		if (d->merge_conf != NULL && top != NULL && sc != NULL)
			d->merge_conf(top, sc);
		for (size_t r = 0; r < site->nroutes; r++) {
			void *rc = mconf_get(conf, LNT_SCOPE_ROUTE,
			    &site->routes[r], i);

			if (d->merge_conf != NULL && sc != NULL && rc != NULL)
				d->merge_conf(sc, rc);
		}
	}
}

static int
hook_cmp(const void *a, const void *b)
{
	const lnt_hook_t *x = a, *y = b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return x->mod < y->mod ? -1 : x->mod > y->mod;
}

static void
build_hooks(lnt_conf_t *conf)
{
	lnt_hooks_t *h = lnt_xcalloc(1, sizeof(*h));

	for (size_t i = 0; i < conf->nmods; i++) {
		const lnt_mod_hook_t *k = conf->mods[i].desc->hooks;

		for (; k && (k->handler || k->body); k++) {
			/* A body filter has its own signature: only there. */
			if ((unsigned)k->phase >= LNT_PHASE_COUNT ||
			    (k->phase == LNT_PHASE_BODY_FILTER) !=
			    (k->body != NULL))
				continue;
			h->v[k->phase] = lnt_xrealloc(h->v[k->phase],
			    (h->n[k->phase] + 1) * sizeof(lnt_hook_t));
			h->v[k->phase][h->n[k->phase]++] = (lnt_hook_t){
			    k->handler, k->order, i, k->body };
		}
	}
	/* By order, then by the order of the modules list. */
	for (int p = 0; p < LNT_PHASE_COUNT; p++)
		if (h->n[p] > 1)
			qsort(h->v[p], h->n[p], sizeof(lnt_hook_t), hook_cmp);
	conf->hooks = h;
}

void
lnt_module_finish(lnt_cf_t *cf)
{
	lnt_conf_t *conf = lnt_conf_current(cf);

	for (size_t i = 0; i < conf->nmods; i++)
		merge_one(conf, i);
	build_hooks(conf);
	for (size_t i = 0; i < conf->nmods; i++) {
		const lnt_module_t *d = conf->mods[i].desc;

		if (d->master_init == NULL)
			continue;
		lnt_conf_set_module(cf, d->name);
		if (d->master_init(cf) == -1)
			lnt_conf_error(cf, NULL, "module '%s' refused the "
			    "configuration", d->name);
		lnt_conf_set_module(cf, NULL);
	}
}

void
lnt_module_reload(lnt_cf_t *cf)
{
	lnt_conf_t *conf = lnt_conf_current(cf);

	for (size_t i = 0; i < conf->nmods; i++) {
		const lnt_module_t *d = conf->mods[i].desc;

		if (d->reload == NULL)
			continue;
		lnt_conf_set_module(cf, d->name);
		if (d->reload(cf) == -1)
			lnt_conf_error(cf, NULL, "module '%s' refused the "
			    "reload", d->name);
		lnt_conf_set_module(cf, NULL);
	}
}

static void
free_mconf(const lnt_conf_t *conf, unsigned scope, void *base)
{
	void ***arr = mconf_of(scope, base);

	if (*arr == NULL)
		return;
	for (size_t i = 0; i < conf->nmods; i++) {
		const lnt_module_t *d = conf->mods[i].desc;

		if ((*arr)[i] != NULL && d->free_conf != NULL)
			d->free_conf(mod_scope(scope), (*arr)[i]);
	}
	free(*arr);
	*arr = NULL;
}

void
lnt_module_free(lnt_conf_t *conf)
{
	for (size_t s = 0; s < conf->nsites; s++) {
		for (size_t r = 0; r < conf->sites[s].nroutes; r++)
			free_mconf(conf, LNT_SCOPE_ROUTE,
			    &conf->sites[s].routes[r]);
		free_mconf(conf, LNT_SCOPE_SITE, &conf->sites[s]);
	}
	for (size_t u = 0; u < conf->nupstreams; u++)
		free_mconf(conf, LNT_SCOPE_UPSTREAM, &conf->upstreams[u]);
	free_mconf(conf, LNT_SCOPE_TOP, conf);
	if (conf->hooks != NULL) {
		for (int p = 0; p < LNT_PHASE_COUNT; p++)
			free(conf->hooks->v[p]);
		free(conf->hooks);
	}
	lnt_var_free(conf);
	/* Unloading last: the code that frees module memory lives there. */
	for (size_t i = 0; i < conf->nmods; i++) {
		dlclose(conf->mods[i].dl);
		free(conf->mods[i].path);
	}
	free(conf->mods);
	conf->mods = NULL;
	conf->nmods = 0;
	for (size_t i = 0; i < conf->nmod_settings; i++)
		free(conf->mod_settings[i].text);
	free(conf->mod_settings);
	conf->mod_settings = NULL;
	conf->nmod_settings = 0;
	/* A zone no loaded config holds any more is unmapped (here; the
	 * workers of an old generation keep their own mappings). */
	for (size_t i = 0; i < conf->nzones; i++)
		lnt_shm_release(conf->zones[i]);
	free(conf->zones);
	conf->zones = NULL;
	conf->nzones = 0;
}

int
lnt_module_worker_init(const lnt_conf_t *conf)
{
	for (size_t i = 0; i < conf->nmods; i++) {
		const lnt_module_t *d = conf->mods[i].desc;

		if (d->worker_init != NULL && d->worker_init() == -1) {
			lnt_log(LNT_LOG_EMERG, "module '%s' failed to start "
			    "in the worker", d->name);
			return -1;
		}
	}
	return 0;
}

void
lnt_module_worker_exit(const lnt_conf_t *conf)
{
	for (size_t i = 0; i < conf->nmods; i++) {
		const lnt_module_t *d = conf->mods[i].desc;

		if (d->worker_exit != NULL)
			d->worker_exit();
	}
}

bool
lnt_phase_hooked(lnt_phase_t phase)
{
	const lnt_hooks_t *h = lnt_worker_conf->hooks;

	return h != NULL && h->n[phase] > 0;
}

lnt_mod_rc_t
lnt_phase_run_from(lnt_conn_t *c, lnt_phase_t phase, size_t *next)
{
	const lnt_hooks_t *h = lnt_worker_conf->hooks;
	void **mconf;

	if (h == NULL || *next >= h->n[phase])
		return LNT_MOD_CONTINUE;
	/* Before routing, handlers see the site's config; after, the
	 * route's (merged from the site); choosing a server, the
	 * upstream's. */
	if (phase == LNT_PHASE_UPSTREAM_SELECT && c->up.upstream != NULL)
		mconf = c->up.upstream->mconf;
	else if (phase == LNT_PHASE_CONNECT)
		mconf = lnt_worker_conf->mconf;	/* no site yet */
	else
		mconf = c->route != NULL && phase > LNT_PHASE_REWRITE ?
		    c->route->mconf : c->site != NULL ? c->site->mconf : NULL;
	for (size_t i = *next; i < h->n[phase]; i++) {
		const lnt_hook_t *k = &h->v[phase][i];
		lnt_mod_rc_t rc;

		lnt_conn_hook_enter(c);
		rc = k->handler(c, mconf ? mconf[k->mod] : NULL);
		lnt_conn_hook_leave(c);
		*next = i + 1;
		if (rc != LNT_MOD_CONTINUE)
			return rc;
	}
	return LNT_MOD_CONTINUE;
}

static const char *const phase_names[LNT_PHASE_COUNT] = {
	[LNT_PHASE_CONNECT] = "CONNECT",
	[LNT_PHASE_POST_READ] = "POST_READ",
	[LNT_PHASE_REWRITE] = "REWRITE",
	[LNT_PHASE_ROUTE_REWRITE] = "ROUTE_REWRITE",
	[LNT_PHASE_ACCESS] = "ACCESS",
	[LNT_PHASE_CONTENT] = "CONTENT",
	[LNT_PHASE_UPSTREAM_SELECT] = "UPSTREAM_SELECT",
	[LNT_PHASE_HEADER_FILTER] = "HEADER_FILTER",
	[LNT_PHASE_BODY_FILTER] = "BODY_FILTER",
	[LNT_PHASE_LOG] = "LOG",
};

lnt_mod_rc_t
lnt_phase_run(lnt_conn_t *c, lnt_phase_t phase)
{
	size_t next = 0;
	lnt_mod_rc_t rc = lnt_phase_run_from(c, phase, &next);

	if (rc == LNT_MOD_SUSPEND) {
		const lnt_hook_t *k =
		    &lnt_worker_conf->hooks->v[phase][next - 1];

		lnt_conn_log(c, LNT_LOG_ERR, "module '%s' suspended the %s "
		    "phase, which cannot wait: taken as an error",
		    lnt_worker_conf->mods[k->mod].desc->name,
		    phase_names[phase]);
		rc = LNT_MOD_ERROR;
	}
	return rc;
}
