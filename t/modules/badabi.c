/* SPDX-License-Identifier: BSD-2-Clause */
/* A module built for another API version: the loader must refuse it. */
#include <lintel/module.h>

const lnt_module_t lnt_module_badabi = {
	.abi = 1000,	/* no lintel will have it */
	.size = sizeof(lnt_module_t),
	.name = "badabi",
};
