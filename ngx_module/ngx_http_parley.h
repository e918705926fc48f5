
/*
 * Copyright (C) Parley
 */


#ifndef _NGX_HTTP_PARLEY_H_INCLUDED_
#define _NGX_HTTP_PARLEY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>

#include <parley_context.h>

#include "ngx_http_parley_token.h"


#define NGX_HTTP_PARLEY_AUTH_OFF      0
#define NGX_HTTP_PARLEY_AUTH_SECRET   1
#define NGX_HTTP_PARLEY_AUTH_WIDGET   2
#define NGX_HTTP_PARLEY_AUTH_ADMIN    3
#define NGX_HTTP_PARLEY_AUTH_PUBLIC   4   /* widget bootstrap: edge:public */

/*
 * A location's "parley_auth widget_stream": the stream id in the URI; the
 * request's identity is then a widget token's (ctx->auth is
 * NGX_HTTP_PARLEY_AUTH_WIDGET, and so are its counters)
 */
#define NGX_HTTP_PARLEY_AUTH_WIDGET_STREAM  5

/* what a parley_limit is keyed on */
#define NGX_HTTP_PARLEY_LIMIT_TENANT  0
#define NGX_HTTP_PARLEY_LIMIT_KEY     1
#define NGX_HTTP_PARLEY_LIMIT_SESSION 2
#define NGX_HTTP_PARLEY_LIMIT_IP      3
#define NGX_HTTP_PARLEY_LIMIT_LOOKUP  4   /* per address, keys not cached */

/* which of a location's limits a check charges */
#define NGX_HTTP_PARLEY_LIMITS_REQUEST    0   /* all but "lookup" */
#define NGX_HTTP_PARLEY_LIMITS_PREFLIGHT  1   /* "ip": no credential yet */
#define NGX_HTTP_PARLEY_LIMITS_LOOKUP     2   /* "lookup": before asking */

#define NGX_HTTP_PARLEY_HEADERS_OFF   0
#define NGX_HTTP_PARLEY_HEADERS_API   1
#define NGX_HTTP_PARLEY_HEADERS_PAGE  2   /* the upstream's CSP is kept */
#define NGX_HTTP_PARLEY_HEADERS_ASSET 3   /* CORP cross-origin: <script src> */

#define NGX_HTTP_PARLEY_HASH_LEN      32      /* SHA-256 */

/* what a key cache entry is a verdict on: kinds never answer for each other */
#define NGX_HTTP_PARLEY_CACHE_KEY     1       /* a secret key */
#define NGX_HTTP_PARLEY_CACHE_ORIGIN  2       /* a browser origin */

/*
 * keeps GCRA arithmetic far from overflow, far above any real plan; the
 * bound of a widget credential's plan too
 */
#define NGX_HTTP_PARLEY_MAX_RATE      PARLEY_WIDGET_PLAN_MAX

/* every edge refusal has the OpenAI error shape */
#define NGX_HTTP_PARLEY_ERROR(message, type, code)                           \
    "{\"error\":{\"message\":\"" message "\",\"type\":\"" type                \
    "\",\"code\":\"" code "\"}}\n"


/* the edge's counters in the parley_status_zone, see ..._status.c */
#define NGX_HTTP_PARLEY_STAT_ALLOWED           0   /* + auth, 0..4 */
#define NGX_HTTP_PARLEY_STAT_INVALID           4   /* + auth, 1..3 */
#define NGX_HTTP_PARLEY_STAT_NO_CREDENTIAL     8
#define NGX_HTTP_PARLEY_STAT_AUTH_UNAVAILABLE  9
#define NGX_HTTP_PARLEY_STAT_RATE_LIMITED     10   /* + limit key, 0..4 */
#define NGX_HTTP_PARLEY_STAT_DRY_RUN          15   /* + limit key, 0..4 */
#define NGX_HTTP_PARLEY_STAT_STREAMS_LIMITED  20
#define NGX_HTTP_PARLEY_STAT_ZONE_FULL        21
#define NGX_HTTP_PARLEY_STAT_CACHE_HIT        22
#define NGX_HTTP_PARLEY_STAT_CACHE_MISS       23
#define NGX_HTTP_PARLEY_STAT_STREAMS          24   /* a gauge */
#define NGX_HTTP_PARLEY_STAT_METHOD           25
#define NGX_HTTP_PARLEY_STAT_MEDIA_TYPE       26
#define NGX_HTTP_PARLEY_STAT_ORIGIN           27
#define NGX_HTTP_PARLEY_STAT_N                28


typedef struct {
    ngx_str_t                     secret;        /* parley_edge_secret_file */
    ngx_shm_zone_t               *key_cache;     /* parley_key_cache */
    ngx_msec_t                    key_cache_ttl;
    ngx_msec_t                    key_negative_ttl;
    ngx_str_t                     admin_hash;    /* SHA-256 of the token */
    ngx_array_t                  *widget_keys;   /* of ..._widget_key_t */
    time_t                        widget_skew;
    ngx_shm_zone_t               *status;        /* parley_status_zone */
    ngx_uint_t                    status_page;   /* parley_status is used */
    EVP_MD                       *sha256;        /* fetched once */
    EVP_MD_CTX                   *sha256_ctx;
    ngx_int_t                     request_id_index;
} ngx_http_parley_main_conf_t;


typedef struct {
    ngx_shm_zone_t               *shm_zone;
    ngx_uint_t                    key;           /* NGX_HTTP_PARLEY_LIMIT_* */
    ngx_uint_t                    rpm;
    ngx_uint_t                    burst;
} ngx_http_parley_limit_t;


typedef struct {
    ngx_uint_t                    auth;          /* parley_auth */
    ngx_str_t                     introspect;    /* parley_introspect */
    ngx_array_t                  *limits;        /* of ..._limit_t */
    ngx_array_t                  *limit_zones;   /* by name: lock order */
    ngx_flag_t                    limit_dry_run;
    ngx_uint_t                    limit_log_level;
    ngx_shm_zone_t               *streams_zone;  /* parley_streams */
    ngx_uint_t                    max_streams;
    ngx_uint_t                    headers;       /* parley_headers */
    ngx_uint_t                    methods;       /* parley_methods, 0: any */
    ngx_str_t                     allow;         /* ... for "Allow" */
    ngx_flag_t                    json_body;     /* parley_json_body */
    ngx_flag_t                    multipart_body; /* parley_multipart_body */
    ngx_flag_t                    cors;          /* parley_cors */
} ngx_http_parley_loc_conf_t;


typedef struct {
    ngx_str_t                     name;
    ngx_str_t                     value;
} ngx_http_parley_header_t;


/*
 * The module's zones, by the directive that makes them, see ..._shm.c:
 * all but the status zone hold a tree of nodes.
 */
#define NGX_HTTP_PARLEY_ZONE_KEYS     0
#define NGX_HTTP_PARLEY_ZONE_LIMITS   1
#define NGX_HTTP_PARLEY_ZONE_STREAMS  2
#define NGX_HTTP_PARLEY_ZONE_STATUS   3

typedef struct {
    ngx_rbtree_t                  rbtree;
    ngx_rbtree_node_t             sentinel;
    ngx_queue_t                   queue;     /* most recently used first */
} ngx_http_parley_shctx_t;


/* a zone's configuration; on reload, the old one tells what the zone was */
typedef struct {
    ngx_http_parley_shctx_t      *sh;        /* a tree's */
    ngx_atomic_t                 *counters;  /* the status zone's */
    ngx_slab_pool_t              *shpool;
    ngx_uint_t                    kind;      /* NGX_HTTP_PARLEY_ZONE_* */
} ngx_http_parley_zone_t;


/* a zone's node from the rbtree node's color on: the key, then the value */
typedef struct {
    u_char                        color;
    u_char                        len;       /* of the key */
    ngx_queue_t                   queue;
    u_char                        data[1];
} ngx_http_parley_node_t;

#define ngx_http_parley_node_value(pn)                                      \
    ((void *) ((pn)->data + ngx_align((pn)->len, NGX_ALIGNMENT)))

/* whether a node may be evicted; full: the zone has no room left */
typedef ngx_uint_t (*ngx_http_parley_zone_idle_pt)(ngx_http_parley_node_t *pn,
    void *data, ngx_uint_t full);


/* what introspection said about an active key; also the key cache's value */
typedef struct {
    u_char                        tenant[NGX_HTTP_PARLEY_UUID_LEN];
    u_char                        key_id[NGX_HTTP_PARLEY_UUID_LEN];
    ngx_int_t                     rpm;           /* or NGX_HTTP_PARLEY_UNSET */
    ngx_int_t                     burst;         /* or NGX_HTTP_PARLEY_UNSET */
    ngx_int_t                     max_streams;   /* or NGX_HTTP_PARLEY_UNSET */
} ngx_http_parley_identity_t;


typedef struct {
    ngx_http_request_t           *subrequest;
    ngx_uint_t                    status;        /* of the subrequest */
    ngx_str_t                     key;           /* in the request */
    u_char                        key_hash[NGX_HTTP_PARLEY_HASH_LEN];

    /* who: identity.tenant plus a principal of the kind of "auth" */
    ngx_uint_t                    auth;
    ngx_http_parley_identity_t    identity;
    ngx_str_t                     principal;
    ngx_str_t                     session;       /* empty: none */

    /* widget bootstrap and CORS */
    ngx_str_t                     site_key;      /* X-Parley-Site-Key */
    ngx_str_t                     token_origin;  /* a widget token's "org" */
    ngx_str_t                     origin;        /* the request's Origin */

    /* the tightest limit, for the RateLimit headers */
    ngx_str_t                     rate_policy;
    ngx_uint_t                    rate_quota;    /* RateLimit-Policy q */
    ngx_uint_t                    rate_remaining;
    ngx_uint_t                    rate_reset;    /* seconds */

    unsigned                      done:1;        /* subrequest finished */
    unsigned                      authenticated:1;
    unsigned                      limited:1;     /* RateLimit headers due */
    unsigned                      concurrency:1; /* ... for streams */
    unsigned                      stream:1;      /* holds a stream slot */
    unsigned                      introspect:1;  /* the subrequest's own ctx */
    unsigned                      cors:1;        /* the Origin is allowed */
} ngx_http_parley_ctx_t;


ngx_int_t ngx_http_parley_authenticate(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx);
char *ngx_http_parley_key_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_parley_bearer(ngx_http_request_t *r, ngx_str_t *token);
ngx_int_t ngx_http_parley_refuse_credential(ngx_http_request_t *r,
    ngx_str_t *body);
ngx_int_t ngx_http_parley_introspect(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx, ngx_str_t *args);
ngx_int_t ngx_http_parley_introspect_ttl(ngx_http_request_t *sr,
    ngx_msec_t *ttl);
ngx_int_t ngx_http_parley_cache_lookup(ngx_shm_zone_t *shm_zone,
    ngx_uint_t kind, u_char *hash, ngx_http_parley_identity_t *identity);
void ngx_http_parley_cache_store(ngx_shm_zone_t *shm_zone, ngx_uint_t kind,
    u_char *hash, ngx_http_parley_identity_t *identity, ngx_msec_t ttl);

ngx_int_t ngx_http_parley_widget_authenticate(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx);
ngx_int_t ngx_http_parley_widget_stream_authenticate(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx);
ngx_int_t ngx_http_parley_stream_redact(ngx_http_request_t *r);
char *ngx_http_parley_widget_keys(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_parley_public_authenticate(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx);
ngx_int_t ngx_http_parley_site_key(ngx_http_request_t *r);

ngx_int_t ngx_http_parley_cors_preflight(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx);
ngx_int_t ngx_http_parley_cors_check(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx);
void ngx_http_parley_cors_token(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx);
ngx_int_t ngx_http_parley_cors_headers(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx);
ngx_uint_t ngx_http_parley_is_preflight(ngx_http_request_t *r);

ngx_int_t ngx_http_parley_validate_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_parley_validate_body(ngx_http_request_t *r);
char *ngx_http_parley_methods(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_parley_admin_authenticate(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx);
char *ngx_http_parley_admin_token_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

ngx_int_t ngx_http_parley_limit_check(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx, ngx_uint_t which);
char *ngx_http_parley_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_parley_limit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_parley_limit_merge(ngx_conf_t *cf,
    ngx_http_parley_loc_conf_t *conf);
ngx_int_t ngx_http_parley_rate_limited(ngx_http_request_t *r,
    ngx_uint_t retry);

ngx_int_t ngx_http_parley_streams_acquire(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx);
char *ngx_http_parley_stream_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_parley_streams(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_parley_streams_status(ngx_http_request_t *r,
    ngx_shm_zone_t *shm_zone, ngx_chain_t ***ll);

char *ngx_http_parley_status_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_parley_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_atomic_t *ngx_http_parley_counter(ngx_http_request_t *r,
    ngx_uint_t counter);
void ngx_http_parley_count(ngx_http_request_t *r, ngx_uint_t counter,
    ngx_atomic_int_t n);

ngx_int_t ngx_http_parley_strip_headers(ngx_http_request_t *r);
ngx_table_elt_t *ngx_http_parley_find_header(ngx_list_t *headers,
    ngx_str_t *name);
ngx_int_t ngx_http_parley_add_header(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value);
ngx_int_t ngx_http_parley_header_filter_init(ngx_conf_t *cf);

ngx_int_t ngx_http_parley_add_variables(ngx_conf_t *cf);
char *ngx_http_parley_edge_secret_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

ngx_int_t ngx_http_parley_zone_arg(ngx_conf_t *cf, ngx_str_t *value,
    ngx_str_t *name, ssize_t *size);
ngx_shm_zone_t *ngx_http_parley_zone_add(ngx_conf_t *cf, ngx_str_t *value,
    ngx_uint_t kind);
ngx_uint_t ngx_http_parley_zone_is(ngx_shm_zone_t *shm_zone, ngx_uint_t kind);
ngx_rbtree_node_t *ngx_http_parley_zone_find(ngx_http_parley_zone_t *zone,
    ngx_rbtree_key_t hash, ngx_str_t *key);
ngx_rbtree_node_t *ngx_http_parley_zone_insert(ngx_http_parley_zone_t *zone,
    ngx_rbtree_key_t hash, ngx_str_t *key, size_t size,
    ngx_http_parley_zone_idle_pt idle, void *data);
void ngx_http_parley_zone_touch(ngx_http_parley_zone_t *zone,
    ngx_http_parley_node_t *pn);
void ngx_http_parley_zone_delete(ngx_http_parley_zone_t *zone,
    ngx_http_parley_node_t *pn);
ngx_int_t ngx_http_parley_read_file(ngx_conf_t *cf, ngx_str_t *name,
    size_t max, ngx_str_t *content);
ngx_http_parley_ctx_t *ngx_http_parley_get_ctx(ngx_http_request_t *r);
ngx_int_t ngx_http_parley_sha256(ngx_http_parley_main_conf_t *pmcf,
    u_char *data, size_t len, u_char *md);
ngx_int_t ngx_http_parley_send_error(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *body);


extern ngx_module_t  ngx_http_parley_module;


#endif /* _NGX_HTTP_PARLEY_H_INCLUDED_ */
