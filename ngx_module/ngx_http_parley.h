
/*
 * Copyright (C) Parley
 */


#ifndef _NGX_HTTP_PARLEY_H_INCLUDED_
#define _NGX_HTTP_PARLEY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <parley_context.h>


#define NGX_HTTP_PARLEY_AUTH_OFF      0
#define NGX_HTTP_PARLEY_AUTH_SECRET   1

#define NGX_HTTP_PARLEY_HEADERS_OFF   0
#define NGX_HTTP_PARLEY_HEADERS_API   1

#define NGX_HTTP_PARLEY_UUID_LEN      36
#define NGX_HTTP_PARLEY_HASH_LEN      32      /* SHA-256 */

/* an introspection answer without a rate policy: the location's defaults */
#define NGX_HTTP_PARLEY_UNSET         -1

/* keeps GCRA arithmetic far from overflow, far above any real plan */
#define NGX_HTTP_PARLEY_MAX_RATE      10000000

/* every edge refusal has the OpenAI error shape */
#define NGX_HTTP_PARLEY_ERROR(message, type, code)                           \
    "{\"error\":{\"message\":\"" message "\",\"type\":\"" type                \
    "\",\"code\":\"" code "\"}}\n"


typedef struct {
    ngx_str_t                     secret;        /* parley_edge_secret_file */
    ngx_shm_zone_t               *key_cache;     /* parley_key_cache */
    ngx_msec_t                    key_cache_ttl;
    ngx_msec_t                    key_negative_ttl;
    ngx_int_t                     request_id_index;
} ngx_http_parley_main_conf_t;


typedef struct {
    ngx_uint_t                    auth;          /* parley_auth */
    ngx_str_t                     introspect;    /* parley_introspect */
    ngx_shm_zone_t               *limit_zone;    /* parley_limit tenant */
    ngx_uint_t                    limit_rpm;
    ngx_uint_t                    limit_burst;
    ngx_flag_t                    limit_dry_run;
    ngx_uint_t                    limit_log_level;
    ngx_uint_t                    headers;       /* parley_headers */
} ngx_http_parley_loc_conf_t;


/* what introspection said about an active key; also the key cache's value */
typedef struct {
    u_char                        tenant[NGX_HTTP_PARLEY_UUID_LEN];
    u_char                        key_id[NGX_HTTP_PARLEY_UUID_LEN];
    ngx_int_t                     rpm;           /* or NGX_HTTP_PARLEY_UNSET */
    ngx_int_t                     burst;         /* or NGX_HTTP_PARLEY_UNSET */
} ngx_http_parley_identity_t;


typedef struct {
    ngx_http_request_t           *subrequest;
    ngx_uint_t                    status;        /* of the subrequest */
    ngx_str_t                     key;           /* in the request */
    u_char                        key_hash[NGX_HTTP_PARLEY_HASH_LEN];
    ngx_http_parley_identity_t    identity;

    ngx_uint_t                    rate_quota;    /* RateLimit-Policy q */
    ngx_uint_t                    rate_remaining;
    ngx_uint_t                    rate_reset;    /* seconds */

    unsigned                      done:1;        /* subrequest finished */
    unsigned                      authenticated:1;
    unsigned                      limited:1;     /* RateLimit headers due */
    unsigned                      introspect:1;  /* the subrequest's own ctx */
} ngx_http_parley_ctx_t;


ngx_int_t ngx_http_parley_authenticate(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx);
char *ngx_http_parley_key_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

ngx_int_t ngx_http_parley_limit_check(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx);
ngx_int_t ngx_http_parley_limit_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
char *ngx_http_parley_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_parley_limit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

ngx_int_t ngx_http_parley_strip_headers(ngx_http_request_t *r);
ngx_int_t ngx_http_parley_header_filter_init(ngx_conf_t *cf);

ngx_int_t ngx_http_parley_add_variables(ngx_conf_t *cf);
char *ngx_http_parley_edge_secret_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

ngx_int_t ngx_http_parley_zone_arg(ngx_conf_t *cf, ngx_str_t *value,
    ngx_str_t *name, ssize_t *size);
ngx_int_t ngx_http_parley_send_error(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *body);


extern ngx_module_t  ngx_http_parley_module;


#endif /* _NGX_HTTP_PARLEY_H_INCLUDED_ */
