
/*
 * Copyright (C) Parley
 *
 * Secret key authentication, "Authorization: Bearer sk_<prefix>_<secret>".
 * The SHA-256 of the whole key is looked up in a shared memory cache; on a
 * miss, one internal subrequest asks the engine's introspection endpoint,
 * and its answer is cached, positive and negative alike.  Raw keys never
 * reach the cache or the logs.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>

#include "ngx_http_parley.h"


#define NGX_HTTP_PARLEY_KEY_PREFIX_LEN  12
#define NGX_HTTP_PARLEY_KEY_SECRET_LEN  43      /* base64url of 32 bytes */
#define NGX_HTTP_PARLEY_KEY_LEN                                             \
    (sizeof("sk_") - 1 + NGX_HTTP_PARLEY_KEY_PREFIX_LEN + 1                 \
     + NGX_HTTP_PARLEY_KEY_SECRET_LEN)

/* "sk_<prefix>": the part of a key that may be logged */
#define NGX_HTTP_PARLEY_KEY_PUBLIC_LEN                                      \
    (sizeof("sk_") - 1 + NGX_HTTP_PARLEY_KEY_PREFIX_LEN)


typedef struct {
    u_char                        color;
    u_char                        active;    /* 0: a negative entry */
    ngx_queue_t                   queue;
    ngx_msec_t                    expires;
    ngx_http_parley_identity_t    identity;
    u_char                        hash[NGX_HTTP_PARLEY_HASH_LEN];
} ngx_http_parley_key_node_t;


typedef struct {
    ngx_rbtree_t                  rbtree;
    ngx_rbtree_node_t             sentinel;
    ngx_queue_t                   queue;     /* most recently used first */
} ngx_http_parley_key_shctx_t;


typedef struct {
    ngx_http_parley_key_shctx_t  *sh;
    ngx_slab_pool_t              *shpool;
} ngx_http_parley_key_cache_t;


static ngx_uint_t ngx_http_parley_key_well_formed(ngx_str_t *key);
static ngx_int_t ngx_http_parley_key_authenticated(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx);
static ngx_int_t ngx_http_parley_refuse_key(ngx_http_request_t *r);
static ngx_int_t ngx_http_parley_introspect(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx);
static ngx_int_t ngx_http_parley_introspect_done(ngx_http_request_t *r,
    void *data, ngx_int_t rc);
static ngx_int_t ngx_http_parley_introspect_result(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx);
static ngx_int_t ngx_http_parley_introspect_answer(ngx_http_request_t *sr,
    ngx_http_parley_identity_t *identity, ngx_msec_t *ttl);
static ngx_uint_t ngx_http_parley_header_is(ngx_table_elt_t *h,
    ngx_str_t *name);
static ngx_int_t ngx_http_parley_key_lookup(ngx_http_parley_key_cache_t *cache,
    u_char *hash, ngx_http_parley_identity_t *identity);
static void ngx_http_parley_key_store(ngx_http_parley_key_cache_t *cache,
    u_char *hash, ngx_http_parley_identity_t *identity, ngx_msec_t ttl);
static ngx_rbtree_node_t *ngx_http_parley_key_find(
    ngx_http_parley_key_shctx_t *sh, u_char *hash);
static void ngx_http_parley_key_delete(ngx_http_parley_key_cache_t *cache,
    ngx_queue_t *q);
static void ngx_http_parley_key_expire(ngx_http_parley_key_cache_t *cache);
static void ngx_http_parley_key_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_int_t ngx_http_parley_key_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);


static ngx_str_t  ngx_http_parley_missing_key = ngx_string(
    NGX_HTTP_PARLEY_ERROR("No API key provided: send it as "
                          "'Authorization: Bearer sk_...'.",
                          "invalid_request_error", "invalid_api_key"));

static ngx_str_t  ngx_http_parley_invalid_key = ngx_string(
    NGX_HTTP_PARLEY_ERROR("Invalid API key.",
                          "invalid_request_error", "invalid_api_key"));

static ngx_str_t  ngx_http_parley_auth_unavailable = ngx_string(
    NGX_HTTP_PARLEY_ERROR("The API key cannot be verified right now; "
                          "retry shortly.",
                          "server_error", "auth_unavailable"));

static ngx_str_t  ngx_http_parley_hdr_tenant =
    ngx_string(PARLEY_HDR_TENANT_ID);
static ngx_str_t  ngx_http_parley_hdr_key_id = ngx_string(PARLEY_HDR_KEY_ID);
static ngx_str_t  ngx_http_parley_hdr_kind = ngx_string(PARLEY_HDR_KEY_KIND);
static ngx_str_t  ngx_http_parley_hdr_rpm = ngx_string(PARLEY_HDR_RATE_RPM);
static ngx_str_t  ngx_http_parley_hdr_burst =
    ngx_string(PARLEY_HDR_RATE_BURST);
static ngx_str_t  ngx_http_parley_hdr_streams =
    ngx_string(PARLEY_HDR_MAX_STREAMS);
static ngx_str_t  ngx_http_parley_hdr_ttl = ngx_string(PARLEY_HDR_CACHE_TTL);


/*
 * Returns NGX_OK with ctx->identity set, NGX_AGAIN while introspection
 * runs, NGX_DONE once a refusal was sent, or NGX_ERROR.
 */

ngx_int_t
ngx_http_parley_authenticate(ngx_http_request_t *r, ngx_http_parley_ctx_t *ctx)
{
    ngx_int_t                     rc;
    ngx_http_parley_main_conf_t  *pmcf;

    if (ctx->subrequest) {

        if (!ctx->done) {
            return NGX_AGAIN;
        }

        return ngx_http_parley_introspect_result(r, ctx);
    }

    if (ngx_http_parley_bearer(r, &ctx->key) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "parley: no API key was provided");
        ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_NO_CREDENTIAL, 1);
        return ngx_http_parley_refuse_credential(r,
                                                 &ngx_http_parley_missing_key);
    }

    if (!ngx_http_parley_key_well_formed(&ctx->key)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "parley: malformed API key");
        return ngx_http_parley_refuse_key(r);
    }

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_parley_module);

    if (EVP_Digest(ctx->key.data, ctx->key.len, ctx->key_hash, NULL,
                   pmcf->sha256, NULL)
        != 1)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "parley: EVP_Digest(SHA-256) failed");
        return NGX_ERROR;
    }

    rc = ngx_http_parley_key_lookup(pmcf->key_cache->data, ctx->key_hash,
                                    &ctx->identity);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "parley key cache lookup: %i", rc);

    if (rc == NGX_OK) {
        ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_CACHE_HIT, 1);
        return ngx_http_parley_key_authenticated(r, ctx);
    }

    if (rc == NGX_DECLINED) {
        ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_CACHE_HIT, 1);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "parley: invalid API key \"%*s\" (cached)",
                      NGX_HTTP_PARLEY_KEY_PUBLIC_LEN, ctx->key.data);
        return ngx_http_parley_refuse_key(r);
    }

    ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_CACHE_MISS, 1);

    return ngx_http_parley_introspect(r, ctx);
}


static ngx_int_t
ngx_http_parley_key_authenticated(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx)
{
    ctx->auth = NGX_HTTP_PARLEY_AUTH_SECRET;
    ctx->principal.len = NGX_HTTP_PARLEY_UUID_LEN;
    ctx->principal.data = ctx->identity.key_id;
    ctx->authenticated = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_parley_refuse_key(ngx_http_request_t *r)
{
    ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_INVALID
                             + NGX_HTTP_PARLEY_AUTH_SECRET, 1);

    return ngx_http_parley_refuse_credential(r, &ngx_http_parley_invalid_key);
}


/* the credential of "Authorization: Bearer <credential>" */

ngx_int_t
ngx_http_parley_bearer(ngx_http_request_t *r, ngx_str_t *key)
{
    u_char  *p, *last;

    if (r->headers_in.authorization == NULL) {
        return NGX_DECLINED;
    }

    p = r->headers_in.authorization->value.data;
    last = p + r->headers_in.authorization->value.len;

    if (last - p < (ssize_t) sizeof("Bearer ") - 1
        || ngx_strncasecmp(p, (u_char *) "Bearer ", sizeof("Bearer ") - 1)
           != 0)
    {
        return NGX_DECLINED;
    }

    p += sizeof("Bearer ") - 1;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    while (last > p && (last[-1] == ' ' || last[-1] == '\t')) {
        last--;
    }

    if (p == last) {
        return NGX_DECLINED;
    }

    key->data = p;
    key->len = last - p;

    return NGX_OK;
}


/*
 * The key shape of the contract: "sk_", 12 of [a-z0-9], "_", 43 of
 * base64url.  Anything else is refused without asking the engine.
 */

static ngx_uint_t
ngx_http_parley_key_well_formed(ngx_str_t *key)
{
    u_char      c, *p;
    ngx_uint_t  i;

    if (key->len != NGX_HTTP_PARLEY_KEY_LEN
        || ngx_strncmp(key->data, "sk_", sizeof("sk_") - 1) != 0)
    {
        return 0;
    }

    p = key->data + sizeof("sk_") - 1;

    for (i = 0; i < NGX_HTTP_PARLEY_KEY_PREFIX_LEN; i++) {
        c = p[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
            return 0;
        }
    }

    p += NGX_HTTP_PARLEY_KEY_PREFIX_LEN;

    if (*p++ != '_') {
        return 0;
    }

    for (i = 0; i < NGX_HTTP_PARLEY_KEY_SECRET_LEN; i++) {
        c = p[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'))
        {
            return 0;
        }
    }

    return 1;
}


static ngx_int_t
ngx_http_parley_introspect(ngx_http_request_t *r, ngx_http_parley_ctx_t *ctx)
{
    u_char                      *p;
    ngx_str_t                    args;
    ngx_http_request_t          *sr;
    ngx_http_parley_ctx_t       *sctx;
    ngx_http_post_subrequest_t  *ps;
    ngx_http_parley_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_parley_module);

    args.len = sizeof("key_hash=") - 1 + 2 * NGX_HTTP_PARLEY_HASH_LEN;
    args.data = ngx_pnalloc(r->pool, args.len);
    if (args.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(args.data, "key_hash=", sizeof("key_hash=") - 1);
    ngx_hex_dump(p, ctx->key_hash, NGX_HTTP_PARLEY_HASH_LEN);

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return NGX_ERROR;
    }

    ps->handler = ngx_http_parley_introspect_done;
    ps->data = ctx;

    if (ngx_http_subrequest(r, &plcf->introspect, &args, &sr, ps,
                            NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /*
     * a fake request body: the subrequest neither reads the client's body
     * nor closes a body file that the main request may still need
     */

    sr->request_body = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    if (sr->request_body == NULL) {
        return NGX_ERROR;
    }

    sr->header_only = 1;

    /* marks the subrequest for $parley_context: the edge's own identity */

    sctx = ngx_pcalloc(r->pool, sizeof(ngx_http_parley_ctx_t));
    if (sctx == NULL) {
        return NGX_ERROR;
    }

    sctx->introspect = 1;
    ngx_http_set_ctx(sr, sctx, ngx_http_parley_module);

    ctx->subrequest = sr;

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_parley_introspect_done(ngx_http_request_t *r, void *data,
    ngx_int_t rc)
{
    ngx_http_parley_ctx_t  *ctx = data;

    /*
     * called once more after an error page was made: an upstream failure
     * first arrives as rc, before any status is set
     */

    ctx->done = 1;

    if (rc == NGX_ERROR) {
        ctx->status = 0;

    } else if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        ctx->status = rc;

    } else {
        ctx->status = r->headers_out.status;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "parley introspection done rc:%i s:%ui", rc, ctx->status);

    return rc;
}


static ngx_int_t
ngx_http_parley_introspect_result(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx)
{
    ngx_msec_t                    ttl;
    ngx_http_parley_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_parley_module);

    if (ctx->status == NGX_HTTP_NOT_FOUND) {
        ngx_http_parley_key_store(pmcf->key_cache->data, ctx->key_hash, NULL,
                                  pmcf->key_negative_ttl);

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "parley: invalid API key \"%*s\"",
                      NGX_HTTP_PARLEY_KEY_PUBLIC_LEN, ctx->key.data);

        return ngx_http_parley_refuse_key(r);
    }

    if (ctx->status != NGX_HTTP_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "parley: introspection failed with status %ui, "
                      "refusing the request", ctx->status);

        ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_AUTH_UNAVAILABLE, 1);

        return ngx_http_parley_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          &ngx_http_parley_auth_unavailable);
    }

    if (ngx_http_parley_introspect_answer(ctx->subrequest, &ctx->identity,
                                          &ttl)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "parley: malformed introspection answer, "
                      "refusing the request");

        ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_AUTH_UNAVAILABLE, 1);

        return ngx_http_parley_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          &ngx_http_parley_auth_unavailable);
    }

    ngx_http_parley_key_store(pmcf->key_cache->data, ctx->key_hash,
                              &ctx->identity,
                              ngx_min(ttl, pmcf->key_cache_ttl));

    return ngx_http_parley_key_authenticated(r, ctx);
}


/*
 * Reads the introspection answer from the subrequest's response headers;
 * *ttl is the engine's cache TTL, or NGX_MAX_INT_T_VALUE when it sent none.
 */

static ngx_int_t
ngx_http_parley_introspect_answer(ngx_http_request_t *sr,
    ngx_http_parley_identity_t *identity, ngx_msec_t *ttl)
{
    ngx_int_t         n;
    ngx_uint_t        i, tenant, key_id, kind;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    tenant = 0;
    key_id = 0;
    kind = 0;

    identity->rpm = NGX_HTTP_PARLEY_UNSET;
    identity->burst = NGX_HTTP_PARLEY_UNSET;
    identity->max_streams = NGX_HTTP_PARLEY_UNSET;
    *ttl = NGX_MAX_INT_T_VALUE;

    part = &sr->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0) {
            continue;
        }

        if (ngx_http_parley_header_is(&h[i], &ngx_http_parley_hdr_tenant)) {
            if (!ngx_http_parley_is_uuid(h[i].value.data, h[i].value.len)) {
                return NGX_ERROR;
            }

            ngx_memcpy(identity->tenant, h[i].value.data,
                       NGX_HTTP_PARLEY_UUID_LEN);
            tenant = 1;

        } else if (ngx_http_parley_header_is(&h[i],
                                             &ngx_http_parley_hdr_key_id))
        {
            if (!ngx_http_parley_is_uuid(h[i].value.data, h[i].value.len)) {
                return NGX_ERROR;
            }

            ngx_memcpy(identity->key_id, h[i].value.data,
                       NGX_HTTP_PARLEY_UUID_LEN);
            key_id = 1;

        } else if (ngx_http_parley_header_is(&h[i],
                                             &ngx_http_parley_hdr_kind))
        {
            if (h[i].value.len != sizeof("secret") - 1
                || ngx_strncmp(h[i].value.data, "secret",
                               sizeof("secret") - 1)
                   != 0)
            {
                return NGX_ERROR;
            }

            kind = 1;

        } else if (ngx_http_parley_header_is(&h[i], &ngx_http_parley_hdr_rpm))
        {
            n = ngx_atoi(h[i].value.data, h[i].value.len);
            if (n < 1 || n > NGX_HTTP_PARLEY_MAX_RATE) {
                return NGX_ERROR;
            }

            identity->rpm = n;

        } else if (ngx_http_parley_header_is(&h[i],
                                             &ngx_http_parley_hdr_burst))
        {
            n = ngx_atoi(h[i].value.data, h[i].value.len);
            if (n < 0 || n > NGX_HTTP_PARLEY_MAX_RATE) {
                return NGX_ERROR;
            }

            identity->burst = n;

        } else if (ngx_http_parley_header_is(&h[i],
                                             &ngx_http_parley_hdr_streams))
        {
            n = ngx_atoi(h[i].value.data, h[i].value.len);
            if (n < 0 || n > NGX_HTTP_PARLEY_MAX_RATE) {
                return NGX_ERROR;
            }

            identity->max_streams = n;

        } else if (ngx_http_parley_header_is(&h[i], &ngx_http_parley_hdr_ttl))
        {
            n = ngx_atoi(h[i].value.data, h[i].value.len);
            if (n == NGX_ERROR) {
                return NGX_ERROR;
            }

            *ttl = (n > NGX_MAX_INT32_VALUE / 1000) ? NGX_MAX_INT32_VALUE
                                                      : (ngx_msec_t) n * 1000;
        }
    }

    return (tenant && key_id && kind) ? NGX_OK : NGX_ERROR;
}


static ngx_uint_t
ngx_http_parley_header_is(ngx_table_elt_t *h, ngx_str_t *name)
{
    return h->key.len == name->len
           && ngx_strncasecmp(h->key.data, name->data, name->len) == 0;
}


/* 401 with "WWW-Authenticate: Bearer" and the error body */

ngx_int_t
ngx_http_parley_refuse_credential(ngx_http_request_t *r, ngx_str_t *body)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "WWW-Authenticate");
    ngx_str_set(&h->value, "Bearer");

    r->headers_out.www_authenticate = h;

    return ngx_http_parley_send_error(r, NGX_HTTP_UNAUTHORIZED, body);
}


/*
 * NGX_OK: an active key, *identity filled; NGX_DECLINED: a known invalid
 * key; NGX_AGAIN: not cached, the engine must be asked.
 */

static ngx_int_t
ngx_http_parley_key_lookup(ngx_http_parley_key_cache_t *cache, u_char *hash,
    ngx_http_parley_identity_t *identity)
{
    ngx_int_t                    rc;
    ngx_rbtree_node_t           *node;
    ngx_http_parley_key_node_t  *kn;

    ngx_shmtx_lock(&cache->shpool->mutex);

    node = ngx_http_parley_key_find(cache->sh, hash);

    if (node == NULL) {
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return NGX_AGAIN;
    }

    kn = (ngx_http_parley_key_node_t *) &node->color;

    if ((ngx_msec_int_t) (kn->expires - ngx_current_msec) <= 0) {
        ngx_http_parley_key_delete(cache, &kn->queue);
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return NGX_AGAIN;
    }

    ngx_queue_remove(&kn->queue);
    ngx_queue_insert_head(&cache->sh->queue, &kn->queue);

    if (kn->active) {
        *identity = kn->identity;
        rc = NGX_OK;

    } else {
        rc = NGX_DECLINED;
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return rc;
}


/* identity NULL stores a negative entry */

static void
ngx_http_parley_key_store(ngx_http_parley_key_cache_t *cache, u_char *hash,
    ngx_http_parley_identity_t *identity, ngx_msec_t ttl)
{
    size_t                       size;
    ngx_rbtree_node_t           *node;
    ngx_http_parley_key_node_t  *kn;

    if (ttl == 0) {
        return;
    }

    ngx_shmtx_lock(&cache->shpool->mutex);

    node = ngx_http_parley_key_find(cache->sh, hash);

    if (node) {
        kn = (ngx_http_parley_key_node_t *) &node->color;
        ngx_queue_remove(&kn->queue);

    } else {
        ngx_http_parley_key_expire(cache);

        size = offsetof(ngx_rbtree_node_t, color)
               + sizeof(ngx_http_parley_key_node_t);

        /* a cache may forget anything: evict the least recently used */

        for ( ;; ) {
            node = ngx_slab_alloc_locked(cache->shpool, size);

            if (node || ngx_queue_empty(&cache->sh->queue)) {
                break;
            }

            ngx_http_parley_key_delete(cache,
                                       ngx_queue_last(&cache->sh->queue));
        }

        if (node == NULL) {
            ngx_shmtx_unlock(&cache->shpool->mutex);
            ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                          "parley: could not allocate a key cache node%s",
                          cache->shpool->log_ctx);
            return;
        }

        kn = (ngx_http_parley_key_node_t *) &node->color;

        ngx_memcpy(&node->key, hash, sizeof(ngx_rbtree_key_t));
        ngx_memcpy(kn->hash, hash, NGX_HTTP_PARLEY_HASH_LEN);

        ngx_rbtree_insert(&cache->sh->rbtree, node);
    }

    if (identity) {
        kn->active = 1;
        kn->identity = *identity;

    } else {
        kn->active = 0;
        ngx_memzero(&kn->identity, sizeof(ngx_http_parley_identity_t));
    }

    kn->expires = ngx_current_msec + ttl;

    ngx_queue_insert_head(&cache->sh->queue, &kn->queue);

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


static ngx_rbtree_node_t *
ngx_http_parley_key_find(ngx_http_parley_key_shctx_t *sh, u_char *hash)
{
    ngx_int_t                    rc;
    ngx_rbtree_key_t             key;
    ngx_rbtree_node_t           *node, *sentinel;
    ngx_http_parley_key_node_t  *kn;

    /* the hash is uniform already: its first bytes are the tree key */

    ngx_memcpy(&key, hash, sizeof(ngx_rbtree_key_t));

    node = sh->rbtree.root;
    sentinel = sh->rbtree.sentinel;

    while (node != sentinel) {

        if (key < node->key) {
            node = node->left;
            continue;
        }

        if (key > node->key) {
            node = node->right;
            continue;
        }

        kn = (ngx_http_parley_key_node_t *) &node->color;

        rc = ngx_memcmp(hash, kn->hash, NGX_HTTP_PARLEY_HASH_LEN);

        if (rc == 0) {
            return node;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static void
ngx_http_parley_key_delete(ngx_http_parley_key_cache_t *cache, ngx_queue_t *q)
{
    ngx_rbtree_node_t           *node;
    ngx_http_parley_key_node_t  *kn;

    kn = ngx_queue_data(q, ngx_http_parley_key_node_t, queue);
    node = (ngx_rbtree_node_t *)
               ((u_char *) kn - offsetof(ngx_rbtree_node_t, color));

    ngx_queue_remove(q);
    ngx_rbtree_delete(&cache->sh->rbtree, node);
    ngx_slab_free_locked(cache->shpool, node);
}


/* removes up to two expired entries from the least recently used end */

static void
ngx_http_parley_key_expire(ngx_http_parley_key_cache_t *cache)
{
    ngx_uint_t                   n;
    ngx_queue_t                 *q;
    ngx_http_parley_key_node_t  *kn;

    for (n = 0; n < 2; n++) {

        if (ngx_queue_empty(&cache->sh->queue)) {
            return;
        }

        q = ngx_queue_last(&cache->sh->queue);
        kn = ngx_queue_data(q, ngx_http_parley_key_node_t, queue);

        if ((ngx_msec_int_t) (kn->expires - ngx_current_msec) > 0) {
            return;
        }

        ngx_http_parley_key_delete(cache, q);
    }
}


static void
ngx_http_parley_key_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t           **p;
    ngx_http_parley_key_node_t   *kn, *kt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            kn = (ngx_http_parley_key_node_t *) &node->color;
            kt = (ngx_http_parley_key_node_t *) &temp->color;

            p = (ngx_memcmp(kn->hash, kt->hash, NGX_HTTP_PARLEY_HASH_LEN) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static ngx_int_t
ngx_http_parley_key_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_parley_key_cache_t  *ocache = data;

    size_t                        len;
    ngx_http_parley_key_cache_t  *cache;

    cache = shm_zone->data;

    if (ocache) {
        /* reload: the zone and what it holds live on */
        cache->sh = ocache->sh;
        cache->shpool = ocache->shpool;
        return NGX_OK;
    }

    cache->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        cache->sh = cache->shpool->data;
        return NGX_OK;
    }

    cache->sh = ngx_slab_alloc(cache->shpool,
                               sizeof(ngx_http_parley_key_shctx_t));
    if (cache->sh == NULL) {
        return NGX_ERROR;
    }

    cache->shpool->data = cache->sh;

    ngx_rbtree_init(&cache->sh->rbtree, &cache->sh->sentinel,
                    ngx_http_parley_key_rbtree_insert_value);

    ngx_queue_init(&cache->sh->queue);

    len = sizeof(" in parley_key_cache zone \"\"") + shm_zone->shm.name.len;

    cache->shpool->log_ctx = ngx_slab_alloc(cache->shpool, len);
    if (cache->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(cache->shpool->log_ctx, " in parley_key_cache zone \"%V\"%Z",
                &shm_zone->shm.name);

    cache->shpool->log_nomem = 0;

    return NGX_OK;
}


char *
ngx_http_parley_key_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_parley_main_conf_t *pmcf = conf;

    ssize_t                       size;
    ngx_str_t                    *value, name;
    ngx_shm_zone_t               *shm_zone;
    ngx_http_parley_key_cache_t  *cache;

    if (pmcf->key_cache) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_parley_zone_arg(cf, &value[1], &name, &size) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    cache = ngx_pcalloc(cf->pool, sizeof(ngx_http_parley_key_cache_t));
    if (cache == NULL) {
        return NGX_CONF_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &name, size, &ngx_http_parley_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate zone \"%V\"", &name);
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_http_parley_key_init_zone;
    shm_zone->data = cache;

    pmcf->key_cache = shm_zone;

    return NGX_CONF_OK;
}
