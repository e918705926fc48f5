
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


/* the last key of a connection and its SHA-256 */
typedef struct {
    u_char                        key[NGX_HTTP_PARLEY_KEY_LEN];
    u_char                        hash[NGX_HTTP_PARLEY_HASH_LEN];
} ngx_http_parley_key_memo_t;


/* a key cache node's value; its key is the SHA-256 */
typedef struct {
    ngx_msec_t                    expires;
    ngx_uint_t                    kind;      /* NGX_HTTP_PARLEY_CACHE_* */
    ngx_uint_t                    active;    /* 0: a negative entry */
    ngx_http_parley_identity_t    identity;
} ngx_http_parley_key_value_t;


static ngx_uint_t ngx_http_parley_key_well_formed(ngx_str_t *key);
static ngx_int_t ngx_http_parley_key_hash(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx);
static void ngx_http_parley_key_memo_wipe(void *data);
static ngx_int_t ngx_http_parley_key_authenticated(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx);
static ngx_int_t ngx_http_parley_refuse_key(ngx_http_request_t *r);
static ngx_int_t ngx_http_parley_refuse_malformed_key(ngx_http_request_t *r);
static ngx_uint_t ngx_http_parley_key_equal(u_char *a, u_char *b);
static ngx_int_t ngx_http_parley_introspect_key(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx);
static ngx_int_t ngx_http_parley_introspect_done(ngx_http_request_t *r,
    void *data, ngx_int_t rc);
static ngx_int_t ngx_http_parley_introspect_result(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx);
static ngx_int_t ngx_http_parley_introspect_answer(ngx_http_request_t *sr,
    ngx_http_parley_identity_t *identity, ngx_msec_t *ttl);
static ngx_int_t ngx_http_parley_answer_uuid(ngx_str_t *value, u_char *uuid);
static ngx_int_t ngx_http_parley_answer_number(ngx_str_t *value,
    ngx_int_t min, ngx_int_t *n);
static ngx_int_t ngx_http_parley_ttl(ngx_str_t *value, ngx_msec_t *ttl);
static ngx_uint_t ngx_http_parley_header_is(ngx_table_elt_t *h,
    ngx_str_t *name);
static ngx_uint_t ngx_http_parley_key_idle(ngx_http_parley_node_t *pn,
    void *data, ngx_uint_t full);


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
    ngx_http_parley_loc_conf_t   *plcf;
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

    /*
     * Only a credential of a key's length and prefix is hashed and looked
     * up: one of another kind ("origin ..." hashes as an origin's verdict
     * does) never is.  The rest of its shape is checked on a cache miss,
     * before the engine is asked: the cache holds only keys the engine
     * answered for, all well formed.
     */

    if (ctx->key.len != NGX_HTTP_PARLEY_KEY_LEN
        || ngx_strncmp(ctx->key.data, "sk_", sizeof("sk_") - 1) != 0)
    {
        return ngx_http_parley_refuse_malformed_key(r);
    }

    if (ngx_http_parley_key_hash(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_parley_module);

    rc = ngx_http_parley_cache_lookup(pmcf->key_cache,
                                      NGX_HTTP_PARLEY_CACHE_KEY,
                                      ctx->key_hash, &ctx->identity);

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

    if (!ngx_http_parley_key_well_formed(&ctx->key)) {
        return ngx_http_parley_refuse_malformed_key(r);
    }

    ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_CACHE_MISS, 1);

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_parley_module);

    if (plcf->limits) {
        rc = ngx_http_parley_limit_check(r, ctx,
                                         NGX_HTTP_PARLEY_LIMITS_LOOKUP);

        if (rc != NGX_OK) {
            return rc;
        }
    }

    return ngx_http_parley_introspect_key(r, ctx);
}


/*
 * A kept-alive client sends the same key with every request on its
 * connection, so the connection remembers its last key and that key's
 * SHA-256: the key is hashed once per connection rather than once per
 * request.  Only the hash is reused, never a verdict: each request still
 * looks the hash up in the key cache, so revocation and TTLs hold as
 * before.  The memo hangs on the connection pool as a cleanup, found by
 * its handler, and the copy of the key is wiped when the connection
 * closes.
 */

static ngx_int_t
ngx_http_parley_key_hash(ngx_http_request_t *r, ngx_http_parley_ctx_t *ctx)
{
    ngx_connection_t             *c;
    ngx_pool_cleanup_t           *cln;
    ngx_http_parley_key_memo_t   *memo;
    ngx_http_parley_main_conf_t  *pmcf;

    c = r->connection;
    memo = NULL;

    for (cln = c->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_parley_key_memo_wipe) {
            memo = cln->data;
            break;
        }
    }

    if (memo && ngx_http_parley_key_equal(memo->key, ctx->key.data)) {
        ngx_memcpy(ctx->key_hash, memo->hash, NGX_HTTP_PARLEY_HASH_LEN);
        return NGX_OK;
    }

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_parley_module);

    if (ngx_http_parley_sha256(pmcf, ctx->key.data, ctx->key.len,
                               ctx->key_hash)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, c->log, 0, "parley: SHA-256 failed");
        return NGX_ERROR;
    }

    if (memo == NULL) {
        cln = ngx_pool_cleanup_add(c->pool,
                                   sizeof(ngx_http_parley_key_memo_t));
        if (cln == NULL) {
            /* the hash is right; only the next request hashes again */
            return NGX_OK;
        }

        cln->handler = ngx_http_parley_key_memo_wipe;
        memo = cln->data;
    }

    ngx_memcpy(memo->key, ctx->key.data, NGX_HTTP_PARLEY_KEY_LEN);
    ngx_memcpy(memo->hash, ctx->key_hash, NGX_HTTP_PARLEY_HASH_LEN);

    return NGX_OK;
}


/*
 * Constant time, a word at a time: CRYPTO_memcmp() goes byte by byte, and
 * this runs on every request.
 */

static ngx_uint_t
ngx_http_parley_key_equal(u_char *a, u_char *b)
{
    uint64_t    x, y, diff;
    ngx_uint_t  i;

    diff = 0;

    for (i = 0; i + sizeof(uint64_t) <= NGX_HTTP_PARLEY_KEY_LEN;
         i += sizeof(uint64_t))
    {
        ngx_memcpy(&x, a + i, sizeof(uint64_t));
        ngx_memcpy(&y, b + i, sizeof(uint64_t));
        diff |= x ^ y;
    }

    for ( /* void */ ; i < NGX_HTTP_PARLEY_KEY_LEN; i++) {
        diff |= a[i] ^ b[i];
    }

    return diff == 0;
}


static void
ngx_http_parley_key_memo_wipe(void *data)
{
    ngx_explicit_memzero(data, sizeof(ngx_http_parley_key_memo_t));
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


static ngx_int_t
ngx_http_parley_refuse_malformed_key(ngx_http_request_t *r)
{
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "parley: malformed API key");

    return ngx_http_parley_refuse_key(r);
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

    return ngx_http_parley_is_base64url(p, NGX_HTTP_PARLEY_KEY_SECRET_LEN);
}


static ngx_int_t
ngx_http_parley_introspect_key(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx)
{
    u_char     *p;
    ngx_str_t   args;

    args.len = sizeof("key_hash=") - 1 + 2 * NGX_HTTP_PARLEY_HASH_LEN;
    args.data = ngx_pnalloc(r->pool, args.len);
    if (args.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(args.data, "key_hash=", sizeof("key_hash=") - 1);
    ngx_hex_dump(p, ctx->key_hash, NGX_HTTP_PARLEY_HASH_LEN);

    return ngx_http_parley_introspect(r, ctx, &args);
}


/*
 * Starts the one introspection subrequest of a request, with its query
 * ("key_hash=..." or "origin=..."); NGX_AGAIN until it is done.
 */

ngx_int_t
ngx_http_parley_introspect(ngx_http_request_t *r, ngx_http_parley_ctx_t *ctx,
    ngx_str_t *args)
{
    ngx_http_request_t          *sr;
    ngx_http_parley_ctx_t       *sctx;
    ngx_http_post_subrequest_t  *ps;
    ngx_http_parley_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_parley_module);

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return NGX_ERROR;
    }

    ps->handler = ngx_http_parley_introspect_done;
    ps->data = ctx;

    if (ngx_http_subrequest(r, &plcf->introspect, args, &sr, ps,
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
        ngx_http_parley_cache_store(pmcf->key_cache,
                                    NGX_HTTP_PARLEY_CACHE_KEY, ctx->key_hash,
                                    NULL, pmcf->key_negative_ttl);

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

    ngx_http_parley_cache_store(pmcf->key_cache, NGX_HTTP_PARLEY_CACHE_KEY,
                                ctx->key_hash, &ctx->identity,
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
            if (ngx_http_parley_answer_uuid(&h[i].value, identity->tenant)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            tenant = 1;

        } else if (ngx_http_parley_header_is(&h[i],
                                             &ngx_http_parley_hdr_key_id))
        {
            if (ngx_http_parley_answer_uuid(&h[i].value, identity->key_id)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

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
            if (ngx_http_parley_answer_number(&h[i].value, 1,
                                              &identity->rpm)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

        } else if (ngx_http_parley_header_is(&h[i],
                                             &ngx_http_parley_hdr_burst))
        {
            if (ngx_http_parley_answer_number(&h[i].value, 0,
                                              &identity->burst)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

        } else if (ngx_http_parley_header_is(&h[i],
                                             &ngx_http_parley_hdr_streams))
        {
            if (ngx_http_parley_answer_number(&h[i].value, 0,
                                              &identity->max_streams)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

        } else if (ngx_http_parley_header_is(&h[i], &ngx_http_parley_hdr_ttl)
                   && ngx_http_parley_ttl(&h[i].value, ttl) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return (tenant && key_id && kind) ? NGX_OK : NGX_ERROR;
}


/*
 * The engine's cache TTL of an introspection answer, or NGX_MAX_INT_T_VALUE
 * when it sent none.
 */

ngx_int_t
ngx_http_parley_introspect_ttl(ngx_http_request_t *sr, ngx_msec_t *ttl)
{
    ngx_table_elt_t  *h;

    *ttl = NGX_MAX_INT_T_VALUE;

    h = ngx_http_parley_find_header(&sr->headers_out.headers,
                                    &ngx_http_parley_hdr_ttl);

    return (h == NULL) ? NGX_OK : ngx_http_parley_ttl(&h->value, ttl);
}


/* a tenant or key id of the introspection answer */

static ngx_int_t
ngx_http_parley_answer_uuid(ngx_str_t *value, u_char *uuid)
{
    if (!ngx_http_parley_is_uuid(value->data, value->len)) {
        return NGX_ERROR;
    }

    ngx_memcpy(uuid, value->data, NGX_HTTP_PARLEY_UUID_LEN);

    return NGX_OK;
}


/* a rate, burst or stream limit of the introspection answer */

static ngx_int_t
ngx_http_parley_answer_number(ngx_str_t *value, ngx_int_t min, ngx_int_t *n)
{
    ngx_int_t  v;

    v = ngx_atoi(value->data, value->len);
    if (v < min || v > NGX_HTTP_PARLEY_MAX_RATE) {
        return NGX_ERROR;
    }

    *n = v;

    return NGX_OK;
}


static ngx_int_t
ngx_http_parley_ttl(ngx_str_t *value, ngx_msec_t *ttl)
{
    ngx_int_t  n;

    n = ngx_atoi(value->data, value->len);
    if (n == NGX_ERROR) {
        return NGX_ERROR;
    }

    *ttl = (n > NGX_MAX_INT32_VALUE / 1000) ? NGX_MAX_INT32_VALUE
                                              : (ngx_msec_t) n * 1000;

    return NGX_OK;
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
 * The cache holds introspection answers by a SHA-256: of a secret key, or
 * of an origin (see ..._cors.c), each entry marked with its kind.
 * NGX_OK: an active entry of that kind, *identity filled; NGX_DECLINED: a
 * known negative one, or one of another kind; NGX_AGAIN: not cached, the
 * engine must be asked.
 */

ngx_int_t
ngx_http_parley_cache_lookup(ngx_shm_zone_t *shm_zone, ngx_uint_t kind,
    u_char *hash, ngx_http_parley_identity_t *identity)
{
    ngx_int_t                     rc;
    ngx_str_t                     key;
    ngx_rbtree_key_t              h;
    ngx_rbtree_node_t            *node;
    ngx_http_parley_node_t       *pn;
    ngx_http_parley_zone_t       *zone;
    ngx_http_parley_key_value_t  *kv;

    zone = shm_zone->data;

    key.data = hash;
    key.len = NGX_HTTP_PARLEY_HASH_LEN;

    /* the hash is uniform already: its first bytes are the tree key */

    ngx_memcpy(&h, hash, sizeof(ngx_rbtree_key_t));

    ngx_shmtx_lock(&zone->shpool->mutex);

    node = ngx_http_parley_zone_find(zone, h, &key);

    if (node == NULL) {
        ngx_shmtx_unlock(&zone->shpool->mutex);
        return NGX_AGAIN;
    }

    pn = (ngx_http_parley_node_t *) &node->color;
    kv = ngx_http_parley_node_value(pn);

    if ((ngx_msec_int_t) (kv->expires - ngx_current_msec) <= 0) {
        ngx_http_parley_zone_delete(zone, pn);
        ngx_shmtx_unlock(&zone->shpool->mutex);
        return NGX_AGAIN;
    }

    ngx_http_parley_zone_touch(zone, pn);

    /*
     * What is hashed keeps kinds apart; the kind makes sure of it: an
     * origin's "yes" has no identity, and must never pass for a key's.
     * Only a collision could bring another kind here, and it refuses.
     */

    if (kv->active && kv->kind == kind) {
        *identity = kv->identity;
        rc = NGX_OK;

    } else {
        rc = NGX_DECLINED;
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return rc;
}


/* identity NULL stores a negative entry */

void
ngx_http_parley_cache_store(ngx_shm_zone_t *shm_zone, ngx_uint_t kind,
    u_char *hash, ngx_http_parley_identity_t *identity, ngx_msec_t ttl)
{
    ngx_str_t                     key;
    ngx_rbtree_key_t              h;
    ngx_rbtree_node_t            *node;
    ngx_http_parley_node_t       *pn;
    ngx_http_parley_zone_t       *zone;
    ngx_http_parley_key_value_t  *kv;

    if (ttl == 0) {
        return;
    }

    zone = shm_zone->data;

    key.data = hash;
    key.len = NGX_HTTP_PARLEY_HASH_LEN;

    ngx_memcpy(&h, hash, sizeof(ngx_rbtree_key_t));

    ngx_shmtx_lock(&zone->shpool->mutex);

    node = ngx_http_parley_zone_find(zone, h, &key);

    if (node) {
        pn = (ngx_http_parley_node_t *) &node->color;
        ngx_http_parley_zone_touch(zone, pn);

    } else {
        node = ngx_http_parley_zone_insert(zone, h, &key,
                                           sizeof(ngx_http_parley_key_value_t),
                                           ngx_http_parley_key_idle, NULL);

        if (node == NULL) {
            ngx_shmtx_unlock(&zone->shpool->mutex);
            ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                          "parley: could not allocate a key cache node%s",
                          zone->shpool->log_ctx);
            return;
        }

        pn = (ngx_http_parley_node_t *) &node->color;
    }

    kv = ngx_http_parley_node_value(pn);

    kv->kind = kind;

    if (identity) {
        kv->active = 1;
        kv->identity = *identity;

    } else {
        kv->active = 0;
        ngx_memzero(&kv->identity, sizeof(ngx_http_parley_identity_t));
    }

    kv->expires = ngx_current_msec + ttl;

    ngx_shmtx_unlock(&zone->shpool->mutex);
}


/* a cache may forget anything, expired entries first */

static ngx_uint_t
ngx_http_parley_key_idle(ngx_http_parley_node_t *pn, void *data,
    ngx_uint_t full)
{
    ngx_http_parley_key_value_t  *kv;

    kv = ngx_http_parley_node_value(pn);

    return full || (ngx_msec_int_t) (kv->expires - ngx_current_msec) <= 0;
}


char *
ngx_http_parley_key_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_parley_main_conf_t *pmcf = conf;

    ngx_str_t  *value;

    if (pmcf->key_cache) {
        return "is duplicate";
    }

    value = cf->args->elts;

    pmcf->key_cache = ngx_http_parley_zone_add(cf, &value[1],
                                               NGX_HTTP_PARLEY_ZONE_KEYS);

    return (pmcf->key_cache == NULL) ? NGX_CONF_ERROR : NGX_CONF_OK;
}
