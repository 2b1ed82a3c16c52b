/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A test module whose variables clash: $host is lintel's, $phases_calls
 * the phases module's.  Loading it must fail with both reported.
 */
#include <lintel/module.h>

static int
preconfig(lnt_mod_cf_t *cf)
{
	/* Both calls run so that both errors are shown. */
	lnt_var_define(cf, "host", NULL, NULL);
	lnt_var_define(cf, "phases_calls", NULL, NULL);
	lnt_var_define(cf, "varclash_ok", NULL, NULL);
	return 0;
}

const lnt_module_t lnt_module_varclash = {
	.abi = LNT_MODULE_ABI,
	.size = sizeof(lnt_module_t),
	.name = "varclash",
	.preconfig = preconfig,
};
