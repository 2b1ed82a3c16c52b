/* SPDX-License-Identifier: BSD-2-Clause */
/* A module built for another API version: the loader must refuse it. */
#include <lintel/module.h>

const lnt_module_t lnt_module_badabi = {
	.abi = LNT_MODULE_ABI + 41,
	.size = sizeof(lnt_module_t),
	.name = "badabi",
};
