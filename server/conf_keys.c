/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The core key table and the setters of the keys whose meaning is more than
 * a typed value (addresses, regexes, references).  Generic setters in conf.c
 * do every type, unit and range check the table describes.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "access_log.h"
#include "conf.h"
#include "conf_keys.h"
#include "conf_value.h"
#include "log.h"
#include "tls_conf.h"
#include "util.h"
#include "var.h"

#define DMAX	INT64_MAX		/* no upper bound */

static void	set_workers(lnt_cf_t *, const lnt_key_t *, config_setting_t *,
		    void *);
static void	set_path(lnt_cf_t *, const lnt_key_t *, config_setting_t *,
		    void *);
static void	set_error_log(lnt_cf_t *, const lnt_key_t *,
		    config_setting_t *, void *);
static void	set_log_level(lnt_cf_t *, const lnt_key_t *,
		    config_setting_t *, void *);
static void	set_modules(lnt_cf_t *, const lnt_key_t *, config_setting_t *,
		    void *);
static void	set_access_log(lnt_cf_t *, const lnt_key_t *,
		    config_setting_t *, void *);
static void	set_upstream_name(lnt_cf_t *, const lnt_key_t *,
		    config_setting_t *, void *);
static void	set_server_address(lnt_cf_t *, const lnt_key_t *,
		    config_setting_t *, void *);
static void	set_listen(lnt_cf_t *, const lnt_key_t *, config_setting_t *,
		    void *);
static void	set_names(lnt_cf_t *, const lnt_key_t *, config_setting_t *,
		    void *);
static void	set_route_path(lnt_cf_t *, const lnt_key_t *,
		    config_setting_t *, void *);
static void	set_route_upstream(lnt_cf_t *, const lnt_key_t *,
		    config_setting_t *, void *);

/* In syslog order, so a word's index is its LNT_LOG_* level. */
static const char *const log_levels[] = {
	"emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
	NULL
};

static const char *const balance_methods[] = {
	"round_robin", "least_conn", "random", "least_time", "hash", NULL
};

/* In the order of enum lnt_tls_version and enum lnt_tls_client_mode. */
static const char *const tls_versions[] = { "TLSv1.2", "TLSv1.3", NULL };
static const char *const client_modes[] = { "required", "optional", NULL };

#define TOP	LNT_SCOPE_TOP
#define SITE	LNT_SCOPE_SITE
#define ROUTE	LNT_SCOPE_ROUTE
#define UPS	LNT_SCOPE_UPSTREAM
#define SRV	LNT_SCOPE_SERVER
#define ALOG	LNT_SCOPE_ACCESS_LOG

#define CONF(f)		offsetof(lnt_conf_t, f)
#define LIM(f)		offsetof(lnt_limits_t, f)
#define UPSF(f)		offsetof(lnt_upstream_t, f)
#define SRVF(f)		offsetof(lnt_server_t, f)
#define SITEF(f)	offsetof(lnt_site_t, f)
#define ROUTEF(f)	offsetof(lnt_route_t, f)
#define ALOGF(f)	offsetof(lnt_access_log_conf_t, f)
#define RETF(f)		offsetof(lnt_return_t, f)
#define EPF(f)		offsetof(lnt_error_page_t, f)
#define RET	LNT_SCOPE_RETURN
#define EPAGE	LNT_SCOPE_ERROR_PAGE
#define TLS	LNT_SCOPE_TLS
#define CERT	LNT_SCOPE_TLS_CERT
#define TCLI	LNT_SCOPE_TLS_CLIENT
#define UTLS	LNT_SCOPE_UPSTREAM_TLS
#define TLSF(f)		offsetof(lnt_tls_site_t, f)
#define CERTF(f)	offsetof(lnt_tls_cert_conf_t, f)
#define TCLIF(f)	offsetof(lnt_tls_client_conf_t, f)
#define UTLSF(f)	offsetof(lnt_tls_upstream_t, f)

static const lnt_key_t keys[] = {
	/* Top level. */
	{ .name = "workers", .type = LNT_KEY_INT, .scopes = TOP,
	  .flags = LNT_KEY_CUSTOM_DEFAULT, .offset = CONF(workers),
	  .min = 1, .max = 512, .def = "auto", .set = set_workers,
	  .help = "worker processes: \"auto\" (one per CPU) or a number" },
	{ .name = "worker_connections", .type = LNT_KEY_INT, .scopes = TOP,
	  .offset = CONF(worker_connections), .min = 16, .max = 1048576,
	  .def = "1024",
	  .help = "connections (clients and upstreams) per worker" },
	{ .name = "user", .type = LNT_KEY_STR, .scopes = TOP,
	  .offset = CONF(user), .def = LNT_DEFAULT_USER,
	  .help = "user the workers and the helper run as" },
	{ .name = "group", .type = LNT_KEY_STR, .scopes = TOP,
	  .flags = LNT_KEY_CUSTOM_DEFAULT, .offset = CONF(group),
	  .def = "the user's primary group",
	  .help = "group the workers and the helper run as" },
	{ .name = "pid_file", .type = LNT_KEY_STR, .scopes = TOP,
	  .offset = CONF(pid_file), .def = LNT_PID_PATH, .set = set_path,
	  .help = "file holding the master's process id" },
	{ .name = "error_log", .type = LNT_KEY_STR, .scopes = TOP,
	  .offset = CONF(error_log), .def = LNT_ERROR_LOG_PATH,
	  .set = set_error_log,
	  .help = "\"stderr\", \"syslog\" or the path of the error log" },
	{ .name = "log_level", .type = LNT_KEY_ENUM, .scopes = TOP,
	  .offset = CONF(log_level), .def = "notice", .values = log_levels,
	  .set = set_log_level,
	  .help = "least severe level written to the error log" },
	{ .name = "shutdown_timeout", .type = LNT_KEY_DURATION, .scopes = TOP,
	  .offset = CONF(shutdown_timeout), .min = 0, .max = DMAX,
	  .def = "30s",
	  .help = "how long a graceful stop waits for in-flight requests" },
	{ .name = "modules", .type = LNT_KEY_STR_LIST, .scopes = TOP,
	  .offset = CONF(modules), .count_offset = CONF(nmodules),
	  .def = "[]", .set = set_modules,
	  .help = "loadable modules to load, in order" },
	{ .name = "module_path", .type = LNT_KEY_STR, .scopes = TOP,
	  .offset = CONF(module_path), .def = LNT_MODULE_PATH,
	  .set = set_path,
	  .help = "directory of the modules named without a path" },
	{ .name = "access_log", .type = LNT_KEY_GROUP, .scopes = TOP,
	  .flags = LNT_KEY_NO_FIELD, .child = ALOG, .set = set_access_log,
	  .print = lnt_conf_print_access_log,
	  .help = "one line per request: { path; format; }; none if absent" },
	{ .name = "mime_types", .type = LNT_KEY_STR, .scopes = TOP,
	  .offset = CONF(mime_types), .set = lnt_conf_set_mime_types,
	  .help = "a mime.types file, tried before the built-in types" },
	{ .name = "tls_session_timeout", .type = LNT_KEY_DURATION,
	  .scopes = TOP, .offset = CONF(tls_session_timeout), .min = 0,
	  .max = DMAX, .def = "1h",
	  .help = "how long a TLS session may be resumed (ticket keys "
	  "rotate this often); 0 disables resumption" },

	/* Sites (their limits follow, then the lists). */
	{ .name = "listen", .type = LNT_KEY_STR_OR_LIST, .scopes = SITE,
	  .flags = LNT_KEY_REQUIRED | LNT_KEY_NO_FIELD, .set = set_listen,
	  .print = lnt_conf_print_listen,
	  .help = "\"ADDRESS:PORT [backlog=N] [tls] [proxy_protocol]\"" },
	{ .name = "names", .type = LNT_KEY_STR_OR_LIST, .scopes = SITE,
	  .flags = LNT_KEY_NO_FIELD, .set = set_names,
	  .print = lnt_conf_print_names,
	  .help = "host names: exact, \"*.example.com\" or \"~regex\"" },
	{ .name = "default", .type = LNT_KEY_BOOL, .scopes = SITE,
	  .offset = SITEF(is_default), .def = "false",
	  .help = "the site for requests no name matches on its addresses" },
	{ .name = "mime_types", .type = LNT_KEY_STR, .scopes = SITE,
	  .offset = SITEF(mime_types), .set = lnt_conf_set_mime_types,
	  .help = "a mime.types file for this site (default: the top level's)" },

	/* Limits: top-level defaults that a site may override. */
	{ .name = "client_header_timeout", .type = LNT_KEY_DURATION,
	  .scopes = TOP | SITE, .flags = LNT_KEY_LIMIT,
	  .offset = LIM(client_header_timeout), .min = 1, .max = DMAX,
	  .def = "60s",
	  .help = "time a client has to send the request head" },
	{ .name = "client_body_timeout", .type = LNT_KEY_DURATION,
	  .scopes = TOP | SITE, .flags = LNT_KEY_LIMIT,
	  .offset = LIM(client_body_timeout), .min = 1, .max = DMAX,
	  .def = "60s",
	  .help = "longest pause between two reads of a request body" },
	{ .name = "keepalive_timeout", .type = LNT_KEY_DURATION,
	  .scopes = TOP | SITE, .flags = LNT_KEY_LIMIT,
	  .offset = LIM(keepalive_timeout), .min = 0, .max = DMAX,
	  .def = "75s",
	  .help = "how long an idle client connection is kept; 0 disables" },
	{ .name = "send_timeout", .type = LNT_KEY_DURATION,
	  .scopes = TOP | SITE, .flags = LNT_KEY_LIMIT,
	  .offset = LIM(send_timeout), .min = 1, .max = DMAX, .def = "60s",
	  .help = "longest pause between two writes to a client" },
	{ .name = "max_header_size", .type = LNT_KEY_SIZE,
	  .scopes = TOP | SITE, .flags = LNT_KEY_LIMIT,
	  .offset = LIM(max_header_size), .min = 1024, .max = 1048576,
	  .def = "16k",
	  .help = "largest request head accepted (431 beyond)" },
	{ .name = "max_body_size", .type = LNT_KEY_SIZE,
	  .scopes = TOP | SITE, .flags = LNT_KEY_LIMIT,
	  .offset = LIM(max_body_size), .min = 0, .max = DMAX, .def = "1m",
	  .help = "largest request body accepted (413 beyond); 0: no limit" },
	{ .name = "handshake_timeout", .type = LNT_KEY_DURATION,
	  .scopes = TOP | SITE, .flags = LNT_KEY_LIMIT,
	  .offset = LIM(handshake_timeout), .min = 1, .max = DMAX,
	  .def = "10s",
	  .help = "time a client has to complete the TLS handshake" },

	/* Lists of groups, printed after the scalars of a scope. */
	{ .name = "upstreams", .type = LNT_KEY_LIST, .scopes = TOP,
	  .offset = CONF(upstreams), .count_offset = CONF(nupstreams),
	  .min = 0, .max = DMAX, .child = UPS,
	  .help = "groups of origin servers that routes send requests to" },
	{ .name = "sites", .type = LNT_KEY_LIST, .scopes = TOP,
	  .offset = CONF(sites), .count_offset = CONF(nsites),
	  .min = 1, .max = DMAX, .child = SITE,
	  .help = "virtual hosts: listening addresses, names and routes" },
	/* Required unless redirect_https: lnt_tls_conf_site_check(). */
	{ .name = "routes", .type = LNT_KEY_LIST, .scopes = SITE,
	  .offset = SITEF(routes),
	  .count_offset = SITEF(nroutes), .min = 1, .max = DMAX,
	  .child = ROUTE,
	  .help = "path rules, tried in order; the first match wins" },
	{ .name = "error_pages", .type = LNT_KEY_LIST, .scopes = SITE,
	  .offset = SITEF(error_pages), .count_offset = SITEF(nerror_pages),
	  .min = 0, .max = DMAX, .child = EPAGE,
	  .help = "files sent instead of lintel's pages: { status; file; }" },
	{ .name = "forward_headers", .type = LNT_KEY_STR_LIST, .scopes = SITE,
	  .flags = LNT_KEY_NO_FIELD | LNT_KEY_CUSTOM_DEFAULT,
	  .def = "[ \"via\", \"x-forwarded-for\", \"x-forwarded-proto\", "
	  "\"x-forwarded-host\" ]",
	  .set = lnt_conf_set_forward_headers,
	  .print = lnt_conf_print_forward_headers,
	  .help = "headers the proxy adds: via, x-forwarded-for, "
	  "x-forwarded-proto, x-forwarded-host, forwarded" },
	{ .name = "upstream_host", .type = LNT_KEY_STR, .scopes = SITE,
	  .offset = SITEF(upstream_host),
	  .help = "Host sent upstream (default: the client's)" },
	{ .name = "upstream_host", .type = LNT_KEY_STR, .scopes = ROUTE,
	  .offset = ROUTEF(upstream_host),
	  .help = "Host sent upstream (default: the site's)" },
	{ .name = "request_headers", .type = LNT_KEY_GROUP, .scopes = SITE,
	  .flags = LNT_KEY_CUSTOM_DEFAULT, .offset = SITEF(request_headers),
	  .set = lnt_conf_set_header_rules,
	  .print = lnt_conf_print_header_rules,
	  .help = "{ set; add; remove; } rules for forwarded requests" },
	{ .name = "request_headers", .type = LNT_KEY_GROUP, .scopes = ROUTE,
	  .flags = LNT_KEY_CUSTOM_DEFAULT, .offset = ROUTEF(request_headers),
	  .set = lnt_conf_set_header_rules,
	  .print = lnt_conf_print_header_rules,
	  .help = "{ set; add; remove; } rules; replace the site's" },
	{ .name = "response_headers", .type = LNT_KEY_GROUP, .scopes = SITE,
	  .flags = LNT_KEY_CUSTOM_DEFAULT, .offset = SITEF(response_headers),
	  .set = lnt_conf_set_header_rules,
	  .print = lnt_conf_print_header_rules,
	  .help = "{ set; add; remove; } rules for upstream responses" },
	{ .name = "response_headers", .type = LNT_KEY_GROUP, .scopes = ROUTE,
	  .flags = LNT_KEY_CUSTOM_DEFAULT, .offset = ROUTEF(response_headers),
	  .set = lnt_conf_set_header_rules,
	  .print = lnt_conf_print_header_rules,
	  .help = "{ set; add; remove; } rules; replace the site's" },
	{ .name = "tls", .type = LNT_KEY_GROUP, .scopes = SITE,
	  .flags = LNT_KEY_NO_FIELD, .child = TLS,
	  .set = lnt_tls_conf_set_site, .print = lnt_tls_conf_print_site,
	  .help = "certificates and settings of the site's tls listeners" },
	{ .name = "redirect_https", .type = LNT_KEY_BOOL, .scopes = SITE,
	  .offset = SITEF(redirect_https), .def = "false",
	  .set = lnt_tls_conf_set_redirect,
	  .print = lnt_tls_conf_print_redirect,
	  .help = "redirect every plain request to https: true (port 443) "
	  "or a port" },
	{ .name = "rewrite", .type = LNT_KEY_LIST, .scopes = SITE | ROUTE,
	  .flags = LNT_KEY_NO_FIELD, .module = "rewrite",
	  .help = "URI rewriting rules" },
	{ .name = "rewrite_location", .type = LNT_KEY_BOOL,
	  .scopes = SITE | ROUTE, .flags = LNT_KEY_NO_FIELD,
	  .module = "rewrite",
	  .help = "point upstream Location and Refresh at the public address" },
	{ .name = "acl", .type = LNT_KEY_LIST, .scopes = SITE | ROUTE,
	  .flags = LNT_KEY_NO_FIELD, .module = "acl",
	  .help = "allow and deny rules by client address" },
	{ .name = "auth_basic", .type = LNT_KEY_BOOL_OR_GROUP,
	  .scopes = SITE | ROUTE, .flags = LNT_KEY_NO_FIELD, .module = "acl",
	  .help = "HTTP basic authentication from an htpasswd file" },
	{ .name = "limit_rate", .type = LNT_KEY_BOOL_OR_GROUP,
	  .scopes = SITE | ROUTE, .flags = LNT_KEY_NO_FIELD, .module = "acl",
	  .help = "requests per client, a token bucket" },
	{ .name = "limit_conn", .type = LNT_KEY_BOOL_OR_GROUP,
	  .scopes = SITE | ROUTE, .flags = LNT_KEY_NO_FIELD, .module = "acl",
	  .help = "requests a client may have in progress" },
	{ .name = "trusted_proxies", .type = LNT_KEY_STR_OR_LIST,
	  .scopes = TOP | SITE, .flags = LNT_KEY_NO_FIELD, .module = "acl",
	  .help = "proxies whose X-Forwarded-For names the client" },

	/* Upstreams. */
	{ .name = "name", .type = LNT_KEY_STR, .scopes = UPS,
	  .flags = LNT_KEY_REQUIRED, .offset = UPSF(name),
	  .set = set_upstream_name,
	  .help = "the name routes use: letters, digits, '_', '.', '-'" },
	{ .name = "servers", .type = LNT_KEY_LIST, .scopes = UPS,
	  .flags = LNT_KEY_REQUIRED, .offset = UPSF(servers),
	  .count_offset = UPSF(nservers), .min = 1, .max = DMAX,
	  .child = SRV, .help = "the origin servers of the group" },
	{ .name = "keepalive", .type = LNT_KEY_INT, .scopes = UPS,
	  .offset = UPSF(keepalive), .min = 0, .max = 65535, .def = "32",
	  .help = "idle upstream connections kept open per worker" },
	{ .name = "keepalive_timeout", .type = LNT_KEY_DURATION, .scopes = UPS,
	  .offset = UPSF(keepalive_timeout), .min = 1, .max = DMAX,
	  .def = "60s", .help = "how long an idle upstream connection is kept" },
	{ .name = "keepalive_requests", .type = LNT_KEY_INT, .scopes = UPS,
	  .offset = UPSF(keepalive_requests), .min = 1, .max = 1000000000,
	  .def = "1000", .help = "requests sent on one upstream connection "
	  "before it is closed" },
	{ .name = "connect_timeout", .type = LNT_KEY_DURATION, .scopes = UPS,
	  .offset = UPSF(connect_timeout), .min = 1, .max = DMAX,
	  .def = "5s", .help = "time allowed to connect to a server" },
	{ .name = "send_timeout", .type = LNT_KEY_DURATION, .scopes = UPS,
	  .offset = UPSF(send_timeout), .min = 1, .max = DMAX, .def = "60s",
	  .help = "longest pause between two writes to a server" },
	{ .name = "read_timeout", .type = LNT_KEY_DURATION, .scopes = UPS,
	  .offset = UPSF(read_timeout), .min = 1, .max = DMAX, .def = "60s",
	  .help = "longest pause between two reads from a server" },
	{ .name = "balance", .type = LNT_KEY_ENUM, .scopes = UPS,
	  .flags = LNT_KEY_NO_FIELD, .def = "round_robin",
	  .values = balance_methods, .module = "balancer",
	  .help = "how a server is picked for each request" },
	{ .name = "hash_key", .type = LNT_KEY_STR, .scopes = UPS,
	  .flags = LNT_KEY_NO_FIELD, .def = "$remote_addr",
	  .module = "balancer",
	  .help = "what balance = \"hash\" hashes, with $variables" },
	{ .name = "health_check", .type = LNT_KEY_GROUP, .scopes = UPS,
	  .flags = LNT_KEY_NO_FIELD, .module = "balancer",
	  .help = "active checks: { path; interval; timeout; fall; rise; }" },
	{ .name = "tls", .type = LNT_KEY_BOOL_OR_GROUP, .scopes = UPS,
	  .flags = LNT_KEY_NO_FIELD, .child = UTLS, .def = "false",
	  .set = lnt_tls_conf_set_upstream,
	  .print = lnt_tls_conf_print_upstream,
	  .help = "speak TLS to the servers: true or { ca; verify; sni; "
	  "cert; key; min_version; ciphers; ciphersuites; }" },

	/* An upstream's tls group. */
	{ .name = "ca", .type = LNT_KEY_STR, .scopes = UTLS,
	  .flags = LNT_KEY_CUSTOM_DEFAULT, .offset = UTLSF(ca),
	  .def = "the system's CA bundle", .set = lnt_tls_conf_set_path,
	  .help = "PEM bundle of the CAs that server certificates chain to" },
	{ .name = "verify", .type = LNT_KEY_BOOL, .scopes = UTLS,
	  .offset = UTLSF(verify), .def = "true",
	  .help = "check the server's certificate and its name" },
	{ .name = "sni", .type = LNT_KEY_STR, .scopes = UTLS,
	  .flags = LNT_KEY_CUSTOM_DEFAULT, .offset = UTLSF(sni),
	  .def = "the host of each server's address",
	  .help = "name sent in SNI and expected in the certificate" },
	{ .name = "cert", .type = LNT_KEY_STR, .scopes = UTLS,
	  .offset = UTLSF(cert), .set = lnt_tls_conf_set_path,
	  .help = "client certificate (PEM, then its chain) to present" },
	{ .name = "key", .type = LNT_KEY_STR, .scopes = UTLS,
	  .offset = UTLSF(key), .set = lnt_tls_conf_set_path,
	  .help = "the client certificate's private key" },
	{ .name = "min_version", .type = LNT_KEY_ENUM, .scopes = UTLS,
	  .offset = UTLSF(min_version), .def = "TLSv1.2",
	  .values = tls_versions,
	  .help = "oldest protocol version offered to the servers" },
	{ .name = "ciphers", .type = LNT_KEY_STR, .scopes = UTLS,
	  .offset = UTLSF(ciphers), .def = LNT_TLS_CIPHERS,
	  .help = "TLS 1.2 cipher list, in OpenSSL's syntax" },
	{ .name = "ciphersuites", .type = LNT_KEY_STR, .scopes = UTLS,
	  .offset = UTLSF(ciphersuites), .def = LNT_TLS_CIPHERSUITES,
	  .help = "TLS 1.3 cipher suites, in order of preference" },

	/* Servers of an upstream. */
	{ .name = "address", .type = LNT_KEY_STR, .scopes = SRV,
	  .flags = LNT_KEY_REQUIRED, .offset = SRVF(address),
	  .set = set_server_address,
	  .help = "\"HOST:PORT\", resolved when the config is loaded" },
	{ .name = "weight", .type = LNT_KEY_INT, .scopes = SRV,
	  .offset = SRVF(weight), .min = 1, .max = 1000, .def = "1",
	  .help = "share of the requests relative to the other servers" },
	{ .name = "backup", .type = LNT_KEY_BOOL, .scopes = SRV,
	  .offset = SRVF(backup), .def = "false",
	  .help = "used only when no other server is available" },

	/* Routes. */
	{ .name = "path", .type = LNT_KEY_STR, .scopes = ROUTE,
	  .flags = LNT_KEY_REQUIRED, .offset = ROUTEF(path),
	  .set = set_route_path, .print = lnt_conf_print_route_path,
	  .help = "a path prefix starting with \"/\", or \"~regex\"" },
	{ .name = "upstream", .type = LNT_KEY_STR, .scopes = ROUTE,
	  .flags = LNT_KEY_NO_FIELD,
	  .set = set_route_upstream, .print = lnt_conf_print_route_upstream,
	  .help = "the upstream that serves the route" },
	{ .name = "root", .type = LNT_KEY_STR, .scopes = ROUTE,
	  .offset = ROUTEF(root), .set = lnt_conf_set_root,
	  .print = lnt_conf_print_route_static,
	  .help = "serve static files from this directory" },
	{ .name = "index", .type = LNT_KEY_STR_OR_LIST, .scopes = ROUTE,
	  .flags = LNT_KEY_CUSTOM_DEFAULT, .offset = ROUTEF(index),
	  .count_offset = ROUTEF(nindex), .def = "index.html",
	  .print = lnt_conf_print_route_static,
	  .help = "files tried, in order, for a directory of root" },
	{ .name = "allow_symlinks", .type = LNT_KEY_BOOL, .scopes = ROUTE,
	  .offset = ROUTEF(allow_symlinks), .def = "false",
	  .print = lnt_conf_print_route_static,
	  .help = "follow symbolic links that lead out of root" },
	{ .name = "return", .type = LNT_KEY_GROUP, .scopes = ROUTE,
	  .offset = ROUTEF(ret), .child = RET, .set = lnt_conf_set_return,
	  .print = lnt_conf_print_return,
	  .help = "answer with { status; body; location; } itself" },
	{ .name = "cache", .type = LNT_KEY_GROUP, .scopes = TOP | ROUTE,
	  .flags = LNT_KEY_NO_FIELD, .module = "cache",
	  .help = "response cache: storage at top level, rules in a route" },
	{ .name = "compress", .type = LNT_KEY_BOOL_OR_GROUP, .scopes = ROUTE,
	  .flags = LNT_KEY_NO_FIELD, .module = "compress",
	  .help = "compress responses: true or { types; min_length; ... }" },

	/* The return group of a route. */
	{ .name = "status", .type = LNT_KEY_INT, .scopes = RET,
	  .flags = LNT_KEY_REQUIRED, .offset = RETF(status), .min = 200,
	  .max = 599, .help = "the status code of the answer" },
	{ .name = "body", .type = LNT_KEY_STR, .scopes = RET,
	  .offset = RETF(body),
	  .help = "text/plain body (default: lintel's page or none)" },
	{ .name = "location", .type = LNT_KEY_STR, .scopes = RET,
	  .offset = RETF(location),
	  .help = "redirect target, with $scheme, $host and $request_uri" },

	/* A site's tls group. */
	{ .name = "certificates", .type = LNT_KEY_LIST, .scopes = TLS,
	  .flags = LNT_KEY_REQUIRED, .offset = TLSF(certs),
	  .count_offset = TLSF(ncerts), .min = 1, .max = DMAX, .child = CERT,
	  .help = "{ cert; key; ocsp_response; } entries, chosen by SNI and "
	  "key type" },
	{ .name = "min_version", .type = LNT_KEY_ENUM, .scopes = TLS,
	  .offset = TLSF(min_version), .def = "TLSv1.2",
	  .values = tls_versions,
	  .help = "oldest protocol version accepted" },
	{ .name = "ciphers", .type = LNT_KEY_STR, .scopes = TLS,
	  .offset = TLSF(ciphers), .def = LNT_TLS_CIPHERS,
	  .help = "TLS 1.2 cipher list, in OpenSSL's syntax" },
	{ .name = "ciphersuites", .type = LNT_KEY_STR, .scopes = TLS,
	  .offset = TLSF(ciphersuites), .def = LNT_TLS_CIPHERSUITES,
	  .help = "TLS 1.3 cipher suites, in order of preference" },
	{ .name = "groups", .type = LNT_KEY_STR, .scopes = TLS,
	  .offset = TLSF(groups), .def = LNT_TLS_GROUPS,
	  .help = "key exchange groups, in order of preference" },
	{ .name = "hsts", .type = LNT_KEY_STR, .scopes = TLS,
	  .offset = TLSF(hsts), .set = lnt_tls_conf_set_hsts,
	  .help = "Strict-Transport-Security value for responses over TLS" },
	{ .name = "client_certificate", .type = LNT_KEY_GROUP, .scopes = TLS,
	  .offset = TLSF(client), .child = TCLI,
	  .set = lnt_tls_conf_set_client, .print = lnt_tls_conf_print_client,
	  .help = "ask clients for a certificate: { ca; depth; mode; header; }" },

	/* An entry of tls.certificates. */
	{ .name = "cert", .type = LNT_KEY_STR, .scopes = CERT,
	  .flags = LNT_KEY_REQUIRED, .offset = CERTF(cert),
	  .set = lnt_tls_conf_set_path,
	  .help = "PEM file: the certificate, then its chain" },
	{ .name = "key", .type = LNT_KEY_STR, .scopes = CERT,
	  .flags = LNT_KEY_REQUIRED, .offset = CERTF(key),
	  .set = lnt_tls_conf_set_path,
	  .help = "PEM private key, which others may not read" },
	{ .name = "ocsp_response", .type = LNT_KEY_STR, .scopes = CERT,
	  .offset = CERTF(ocsp_response), .set = lnt_tls_conf_set_path,
	  .help = "DER OCSP response to staple, read again on each reload" },

	/* tls.client_certificate. */
	{ .name = "ca", .type = LNT_KEY_STR, .scopes = TCLI,
	  .flags = LNT_KEY_REQUIRED, .offset = TCLIF(ca),
	  .set = lnt_tls_conf_set_path,
	  .help = "PEM bundle of the CAs that client certificates chain to" },
	{ .name = "depth", .type = LNT_KEY_INT, .scopes = TCLI,
	  .offset = TCLIF(depth), .min = 1, .max = 100, .def = "2",
	  .help = "most intermediate certificates in a client's chain" },
	{ .name = "mode", .type = LNT_KEY_ENUM, .scopes = TCLI,
	  .offset = TCLIF(mode), .def = "required", .values = client_modes,
	  .help = "\"required\": no certificate, no connection; "
	  "\"optional\": checked if sent" },
	{ .name = "header", .type = LNT_KEY_STR, .scopes = TCLI,
	  .offset = TCLIF(header), .def = "X-Client-Subject",
	  .set = lnt_tls_conf_set_header,
	  .help = "request field that carries the subject upstream" },

	/* An entry of a site's error_pages. */
	{ .name = "status", .type = LNT_KEY_INT, .scopes = EPAGE,
	  .flags = LNT_KEY_REQUIRED | LNT_KEY_NO_FIELD, .min = 400,
	  .max = 599, .set = lnt_conf_set_error_page_status,
	  .print = lnt_conf_print_error_page_status,
	  .help = "a status from 400 to 599, or a list of them" },
	{ .name = "file", .type = LNT_KEY_STR, .scopes = EPAGE,
	  .flags = LNT_KEY_REQUIRED, .offset = EPF(file),
	  .set = lnt_conf_set_error_page_file,
	  .help = "the page, read when the config is loaded (64k at most)" },

	/* The access_log group. */
	{ .name = "path", .type = LNT_KEY_STR, .scopes = ALOG,
	  .flags = LNT_KEY_REQUIRED, .offset = ALOGF(path), .set = set_path,
	  .help = "the access log file" },
	{ .name = "format", .type = LNT_KEY_STR, .scopes = ALOG,
	  .offset = ALOGF(format), .def = "combined",
	  .help = "\"combined\", \"json\" or a template with $variables" },
};

#define NOFF	((ssize_t)-1)

static const lnt_scope_t scopes[] = {
	{ TOP, "top level", "at the top level", sizeof(lnt_conf_t),
	  CONF(limits), NOFF, NOFF },
	{ SITE, "site", "in a site", sizeof(lnt_site_t), SITEF(limits),
	  SITEF(file), SITEF(line) },
	{ ROUTE, "route", "in a route", sizeof(lnt_route_t), NOFF,
	  ROUTEF(file), ROUTEF(line) },
	{ UPS, "upstream", "in an upstream", sizeof(lnt_upstream_t), NOFF,
	  UPSF(file), UPSF(line) },
	{ SRV, "server", "in an upstream's server", sizeof(lnt_server_t),
	  NOFF, NOFF, NOFF },
	{ ALOG, "access_log", "in access_log",
	  sizeof(lnt_access_log_conf_t), NOFF, NOFF, NOFF },
	{ RET, "return", "in return", sizeof(lnt_return_t), NOFF, NOFF,
	  NOFF },
	{ EPAGE, "error page", "in an error page", sizeof(lnt_error_page_t),
	  NOFF, EPF(conf_file), EPF(conf_line) },
	{ TLS, "tls", "in a tls group", sizeof(lnt_tls_site_t), NOFF,
	  TLSF(file), TLSF(line) },
	{ CERT, "certificate", "in a certificate", sizeof(lnt_tls_cert_conf_t),
	  NOFF, CERTF(file), CERTF(line) },
	{ TCLI, "client_certificate", "in client_certificate",
	  sizeof(lnt_tls_client_conf_t), NOFF, NOFF, NOFF },
	{ UTLS, "upstream tls", "in an upstream's tls group",
	  sizeof(lnt_tls_upstream_t), NOFF, UTLSF(file), UTLSF(line) },
};

/*
 * The key table; <*n> receives its length.  The table is static and
 * immutable: callers must not free it.
 */
const lnt_key_t *
lnt_conf_keys(size_t *n)
{
	*n = LNT_NELEM(keys);
	return keys;
}

/* The row named <name> that is valid in the scope bit <scope>, or NULL. */
const lnt_key_t *
lnt_conf_key_find(const char *name, unsigned scope)
{
	size_t i;

	for (i = 0; i < LNT_NELEM(keys); i++)
		if ((keys[i].scopes & scope) && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* The description of the single scope bit <scope>; NULL if not one. */
const lnt_scope_t *
lnt_conf_scope(unsigned scope)
{
	size_t i;

	for (i = 0; i < LNT_NELEM(scopes); i++)
		if (scopes[i].scope == scope)
			return &scopes[i];
	return NULL;
}

/*
 * Address of <key>'s field in <base>, a struct of scope <scope>: limit
 * rows live in the scope's embedded lnt_limits_t.
 */
void *
lnt_conf_key_field(const lnt_key_t *key, unsigned scope, const void *base)
{
	const lnt_scope_t *sc = lnt_conf_scope(scope);
	char *p = (char *)(uintptr_t)base;

	if (key->flags & LNT_KEY_LIMIT)
		p += sc->limits_offset;
	return p + key->offset;
}

static void
set_workers(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *s,
    void *base)
{
	const char *v;
	long n;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		lnt_conf_set_generic(cf, key, s, base);
		return;
	}
	v = config_setting_get_string(s);
	if (strcmp(v, "auto") != 0) {
		lnt_conf_error(cf, s, "%s: expected \"auto\" or an integer "
		    "from %lld to %lld, got \"%s\"", key->name,
		    (long long)key->min, (long long)key->max, v);
		return;
	}
	n = sysconf(_SC_NPROCESSORS_ONLN);
	n = n < key->min ? key->min : n > key->max ? key->max : n;
	*(int *)lnt_conf_key_field(key, LNT_SCOPE_TOP, base) = (int)n;
}

/* A string that names a file, made absolute against the config's dir. */
static void
set_path(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *s,
    void *base)
{
	char **field = (char **)lnt_conf_key_field(key, key->scopes, base);
	char *abs;

	lnt_conf_set_generic(cf, key, s, base);
	if (*field == NULL)
		return;
	abs = lnt_conf_path(cf, *field);
	free(*field);
	*field = abs;
}

static void
set_error_log(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *s,
    void *base)
{
	const char *v;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		v = config_setting_get_string(s);
		if (strcmp(v, "stderr") == 0 || strcmp(v, "syslog") == 0) {
			lnt_conf_set_generic(cf, key, s, base);
			return;
		}
	}
	set_path(cf, key, s, base);
}

static void
set_log_level(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *s,
    void *base)
{
	int level;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		lnt_conf_type_error(cf, key, s);
		return;
	}
	if ((level = lnt_log_level_parse(config_setting_get_string(s))) < 0) {
		lnt_conf_type_error(cf, key, s);
		return;
	}
	*(int *)lnt_conf_key_field(key, LNT_SCOPE_TOP, base) = level;
}

/* Loadable modules arrive with the module loader; none exist yet. */
static void
set_modules(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *s,
    void *base)
{
	/* Stored for -T; lnt_module_load_all() loaded them already. */
	lnt_conf_set_generic(cf, key, s, base);
}

static void
set_access_log(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *s,
    void *base)
{
	lnt_conf_t *conf = base;
	lnt_access_log_conf_t alc;
	config_setting_t *fmt;
	char *err = NULL;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		lnt_conf_type_error(cf, key, s);
		return;
	}
	memset(&alc, 0, sizeof(alc));
	lnt_conf_scope_init(cf, key->child, &alc, s);
	lnt_conf_walk(cf, s, key->child, &alc);
	lnt_conf_scope_defaults(cf, key->child, &alc);
	if (alc.path != NULL && alc.format != NULL) {
		conf->access_log = lnt_access_log_compile_ext(alc.path,
		    alc.format, lnt_var_lookup, conf, &err);
		if (conf->access_log == NULL) {
			fmt = config_setting_get_member(s, "format");
			lnt_conf_error(cf, fmt != NULL ? fmt : s,
			    "format: %s", err);
			free(err);
		}
	}
	free(alc.path);
	free(alc.format);
}

static void
set_upstream_name(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *s,
    void *base)
{
	lnt_conf_t *conf = lnt_conf_current(cf);
	lnt_upstream_t *up = base, *u;
	const char *p;

	lnt_conf_set_generic(cf, key, s, base);
	if (up->name == NULL)
		return;
	for (p = up->name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("_.-", *p) == NULL) {
			lnt_conf_error(cf, s, "%s: expected letters, digits, "
			    "'_', '.' and '-', got \"%s\"", key->name,
			    up->name);
			return;
		}
	/* Upstreams before this one in the list are complete. */
	for (u = conf->upstreams; u < up; u++)
		if (u->name != NULL && strcmp(u->name, up->name) == 0) {
			lnt_conf_error(cf, s, "%s: upstream '%s' is already "
			    "defined at %s:%d", key->name, up->name, u->file,
			    u->line);
			return;
		}
}

static void
set_server_address(lnt_cf_t *cf, const lnt_key_t *key,
    config_setting_t *s, void *base)
{
	lnt_server_t *srv = base;
	const char *msg;
	char errbuf[256];

	lnt_conf_set_generic(cf, key, s, base);
	if (srv->address == NULL)
		return;
	msg = lnt_parse_addr(srv->address, true, &srv->addr, &srv->addrlen,
	    errbuf, sizeof(errbuf));
	if (msg != NULL)
		lnt_conf_error(cf, s, "%s: %s, got \"%s\"", key->name, msg,
		    srv->address);
}

/* Apply one flag word <w> of a listen entry; false if it is an error. */
static bool
listen_flag(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *e,
    const char *w, int *backlog, bool *tls, bool *proxy_protocol)
{
	char *end;
	long v;

	if (strncmp(w, "backlog=", 8) == 0) {
		v = strtol(w + 8, &end, 10);
		if (w[8] < '0' || w[8] > '9' || *end != '\0' || v < 1 ||
		    v > 65535) {
			lnt_conf_error(cf, e, "%s: expected backlog=N with N "
			    "from 1 to 65535, got \"%s\"", key->name, w);
			return false;
		}
		*backlog = (int)v;
		return true;
	}
	if (strcmp(w, "tls") == 0) {
		*tls = true;
		return true;
	}
	if (strcmp(w, "proxy_protocol") == 0) {
		*proxy_protocol = true;
		return true;
	}
	lnt_conf_error(cf, e, "%s: unknown flag '%s' (expected backlog=N, tls "
	    "or proxy_protocol)", key->name, w);
	return false;
}

/* One listen entry: "ADDRESS:PORT [flag ...]". */
static void
listen_entry(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *e,
    lnt_site_t *site)
{
	struct sockaddr_storage addr;
	socklen_t len;
	char *copy, *w, *save = NULL, errbuf[256];
	const char *msg;
	int backlog = LNT_UNSET;
	bool ok = true, tls = false, pp = false;

	copy = lnt_xstrdup(config_setting_get_string(e));
	if ((w = strtok_r(copy, " \t", &save)) == NULL) {
		lnt_conf_error(cf, e, "%s: expected \"ADDRESS:PORT [flag "
		    "...]\", got \"\"", key->name);
		free(copy);
		return;
	}
	msg = lnt_parse_addr(w, false, &addr, &len, errbuf, sizeof(errbuf));
	if (msg != NULL) {
		lnt_conf_error(cf, e, "%s: %s, got \"%s\"", key->name, msg, w);
		ok = false;
	}
	while ((w = strtok_r(NULL, " \t", &save)) != NULL)
		ok = listen_flag(cf, key, e, w, &backlog, &tls, &pp) && ok;
	if (ok)
		lnt_conf_add_listen(cf, site, &addr, len, backlog, tls, pp, e);
	free(copy);
}

/*
 * Call <fn> on each string of <s>, a string or a list of strings, and
 * report anything else.
 */
static void
each_string(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *s,
    void *base, void (*fn)(lnt_cf_t *, const lnt_key_t *,
    config_setting_t *, void *))
{
	config_setting_t *e;
	unsigned i;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		fn(cf, key, s, base);
		return;
	}
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) {
		lnt_conf_type_error(cf, key, s);
		return;
	}
	if (config_setting_length(s) == 0)
		lnt_conf_error(cf, s, "%s: expected at least one string, "
		    "got an empty list", key->name);
	for (i = 0; (e = config_setting_get_elem(s, i)) != NULL; i++) {
		if (config_setting_type(e) == CONFIG_TYPE_STRING)
			fn(cf, key, e, base);
		else
			lnt_conf_type_error(cf, key, e);
	}
}

static void
listen_entry_cb(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *e,
    void *base)
{
	listen_entry(cf, key, e, base);
}

static void
set_listen(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *s,
    void *base)
{
	each_string(cf, key, s, base, listen_entry_cb);
}

/* Whether <site> already lists the name or regex <text>. */
static bool
site_has_name(const lnt_site_t *site, const char *text)
{
	size_t i;

	if (text[0] == '~') {
		for (i = 0; i < site->nname_regexes; i++)
			if (strcmp(site->name_regex_src[i], text + 1) == 0)
				return true;
		return false;
	}
	for (i = 0; i < site->nnames; i++)
		if (strcmp(site->names[i], text) == 0)
			return true;
	return false;
}

/* A host name, "*.domain" or "." separated labels; false if not one. */
static bool
valid_name(const char *name)
{
	const char *p = name;

	if (strncmp(p, "*.", 2) == 0)
		p += 2;
	if (*p == '\0')
		return false;
	for (; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("-._:", *p) == NULL)
			return false;
	return true;
}

static void
name_regex(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *e,
    lnt_site_t *site, const char *text)
{
	pcre2_code *re;
	size_t n = site->nname_regexes;

	re = lnt_conf_regex(cf, key, e, text + 1, PCRE2_CASELESS);
	if (re == NULL)
		return;
	site->name_regexes = lnt_xrealloc(site->name_regexes,
	    (n + 1) * sizeof(*site->name_regexes));
	site->name_regex_src = lnt_xrealloc(site->name_regex_src,
	    (n + 1) * sizeof(*site->name_regex_src));
	site->name_regexes[n] = re;
	site->name_regex_src[n] = lnt_xstrdup(text + 1);
	site->nname_regexes = n + 1;
}

static void
name_entry(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *e,
    void *base)
{
	lnt_site_t *site = base;
	char *name = lnt_xstrdup(config_setting_get_string(e)), *p;

	if (name[0] != '~')
		for (p = name; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	if (site_has_name(site, name)) {
		lnt_conf_error(cf, e, "%s: '%s' is listed twice in this site",
		    key->name, name);
	} else if (name[0] == '~') {
		name_regex(cf, key, e, site, name);
	} else if (!valid_name(name)) {
		lnt_conf_error(cf, e, "%s: expected a host name, "
		    "\"*.domain\" or \"~regex\", got \"%s\"", key->name,
		    config_setting_get_string(e));
	} else {
		site->names = lnt_xrealloc(site->names,
		    (site->nnames + 1) * sizeof(*site->names));
		site->names[site->nnames++] = name;
		return;
	}
	free(name);
}

static void
set_names(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *s,
    void *base)
{
	each_string(cf, key, s, base, name_entry);
}

static void
set_route_path(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *s,
    void *base)
{
	lnt_route_t *route = base;
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		lnt_conf_type_error(cf, key, s);
		return;
	}
	v = config_setting_get_string(s);
	if (v[0] == '~') {
		route->regex = lnt_conf_regex(cf, key, s, v + 1, 0);
		if (route->regex == NULL)
			return;
		v++;
	} else if (v[0] != '/') {
		lnt_conf_error(cf, s, "%s: expected a path starting with \"/\" "
		    "or \"~regex\", got \"%s\"", key->name, v);
		return;
	}
	route->path = lnt_xstrdup(v);
	route->path_len = strlen(v);
}

static void
set_route_upstream(lnt_cf_t *cf, const lnt_key_t *key,
    config_setting_t *s, void *base)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		lnt_conf_type_error(cf, key, s);
		return;
	}
	/* Upstreams may be defined after the sites: resolve at the end. */
	lnt_conf_add_upstream_ref(cf, base, config_setting_get_string(s), s);
}
