/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The core side of loadable modules: loading them for a config, handing
 * them the keys they own, their per-scope configs, and running the phase
 * handlers they registered.
 */
#ifndef LNT_MODULE_H
#define LNT_MODULE_H

#include "core.h"
#include "conf_keys.h"
#include "lintel/module.h"

/* A module loaded for one config generation. */
typedef struct lnt_mod_s {
	const lnt_module_t	*desc;
	void			*dl;		/* dlopen handle */
	char			*path;
} lnt_mod_t;

/* One registered handler. */
typedef struct lnt_hook_s {
	lnt_mod_handler_t	 handler;
	int			 order;
	size_t			 mod;		/* index in conf->mods */
	lnt_mod_body_filter_t	 body;		/* BODY_FILTER hooks */
} lnt_hook_t;

/*
 * A key a module took, kept as libconfig text ("name = value;\n") for
 * `lintel -T`: the parsed tree is gone once the file is loaded.
 */
typedef struct lnt_mod_setting_s {
	unsigned	 scope;		/* LNT_SCOPE_* bit of <base> */
	const void	*base;		/* the scope object it was read into */
	char		*text;
} lnt_mod_setting_t;

typedef struct lnt_hooks_s {
	lnt_hook_t	*v[LNT_PHASE_COUNT];
	size_t		 n[LNT_PHASE_COUNT];
} lnt_hooks_t;

/*
 * Load the modules named by the `modules` setting of <root> (found through
 * `module_path`, or as paths when a name holds a '/') into <cf>'s config,
 * reporting each failure.  Called before the rest of the file is read, so
 * their keys are known everywhere.
 */
void		lnt_module_load_all(lnt_cf_t *cf, struct config_setting_t *root);

/*
 * If a loaded module owns key <name> (setting <s>) in <scope> (an
 * LNT_SCOPE_* bit), let it parse the value into its config for the scope
 * object <base>; true when a module took the key.
 */
bool		lnt_module_key(lnt_cf_t *cf, struct config_setting_t *s,
		    const char *name, unsigned scope, void *base);

/* After loading: create and merge module configs, sort the hooks, and
 * run each module's master_init. */
void		lnt_module_finish(lnt_cf_t *cf);

/* On a reload, once the new config is loaded and valid: each module's
 * reload callback, any of which may refuse it (reported in <cf>). */
void		lnt_module_reload(lnt_cf_t *cf);

/* Free the module state of <conf> and unload its modules. */
void		lnt_module_free(lnt_conf_t *conf);

/* In a worker: worker_init of each module (-1 if one failed), and exit. */
int		lnt_module_worker_init(const lnt_conf_t *conf);
void		lnt_module_worker_exit(const lnt_conf_t *conf);

/*
 * Run the handlers of <phase> for request <c>: LNT_MOD_CONTINUE when all
 * continued, else what the one that stopped returned.  For phases that
 * cannot wait: a handler's LNT_MOD_SUSPEND is logged and becomes
 * LNT_MOD_ERROR.
 */
lnt_mod_rc_t	lnt_phase_run(lnt_conn_t *c, lnt_phase_t phase);

/*
 * The same from handler number <*next> on, for the phases a request may
 * be suspended in: <*next> is left at the handler after the one that
 * stopped, where a resumed request goes on.  LNT_MOD_SUSPEND is returned
 * as is.
 */
lnt_mod_rc_t	lnt_phase_run_from(lnt_conn_t *c, lnt_phase_t phase,
		    size_t *next);

/* Whether any module hooks <phase> (a cheap test for the hot path). */
bool		lnt_phase_hooked(lnt_phase_t phase);

/* The module whose key is being parsed, for lnt_cf_error (conf.c). */
void		lnt_conf_set_module(lnt_cf_t *cf, const char *name);
const char	*lnt_conf_module(const lnt_cf_t *cf);

#endif /* LNT_MODULE_H */
