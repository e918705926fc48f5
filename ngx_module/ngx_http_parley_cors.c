
/*
 * Copyright (C) Parley
 *
 * CORS for the widget API: a browser's Origin gets the CORS headers only
 * when the edge knows it is allowed.  On the routes of a widget token the
 * Origin must be the one the token was issued to (its "org" claim).  The
 * public bootstrap routes and the preflights carry no token: for them the
 * engine's introspection says whether some active tenant allows the
 * origin, and the answer is cached in the key cache like a key's, under
 * the SHA-256 of "origin " and the origin.  Preflights are answered here
 * and never reach the engine; an engine that cannot answer refuses the
 * request (fail closed).  The widget's frame page is served from this
 * site and calls the bootstrap routes from there: a request whose Origin
 * is the request's own needs no CORS, and passes without a lookup.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>

#include "ngx_http_parley.h"


/* how long a browser may reuse a preflight answer, in seconds */
#define NGX_HTTP_PARLEY_CORS_MAX_AGE  "600"


static ngx_int_t ngx_http_parley_origin_allowed(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx);
static ngx_int_t ngx_http_parley_origin_result(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx);
static ngx_uint_t ngx_http_parley_origin_well_formed(ngx_str_t *origin);
static ngx_uint_t ngx_http_parley_same_origin(ngx_http_request_t *r,
    ngx_str_t *origin);
static ngx_int_t ngx_http_parley_refuse_origin(ngx_http_request_t *r);


static ngx_str_t  ngx_http_parley_origin_header = ngx_string("Origin");

static ngx_str_t  ngx_http_parley_request_method_header =
    ngx_string("Access-Control-Request-Method");

static ngx_str_t  ngx_http_parley_origin_prefix = ngx_string("origin ");

static ngx_str_t  ngx_http_parley_allow_methods =
    ngx_string("Access-Control-Allow-Methods");

static ngx_http_parley_header_t  ngx_http_parley_preflight_headers[] = {

    { ngx_string("Access-Control-Allow-Headers"),
      ngx_string("Authorization, Content-Type, X-Parley-Site-Key") },

    { ngx_string("Access-Control-Max-Age"),
      ngx_string(NGX_HTTP_PARLEY_CORS_MAX_AGE) },

    { ngx_null_string, ngx_null_string }
};

static ngx_http_parley_header_t  ngx_http_parley_vary = {
    ngx_string("Vary"), ngx_string("Origin")
};

static ngx_http_parley_header_t  ngx_http_parley_allow_origin = {
    ngx_string("Access-Control-Allow-Origin"), ngx_null_string
};

/* so that a widget can pace itself */

static ngx_http_parley_header_t  ngx_http_parley_expose = {
    ngx_string("Access-Control-Expose-Headers"),
    ngx_string("RateLimit, RateLimit-Policy, Retry-After")
};

static ngx_str_t  ngx_http_parley_origin_not_allowed = ngx_string(
    NGX_HTTP_PARLEY_ERROR("This origin is not allowed.",
                          "invalid_request_error", "origin_not_allowed"));

static ngx_str_t  ngx_http_parley_origin_unavailable = ngx_string(
    NGX_HTTP_PARLEY_ERROR("The origin cannot be verified right now; "
                          "retry shortly.",
                          "server_error", "auth_unavailable"));


/* a browser's preflight: OPTIONS with Origin and the method it wants */

ngx_uint_t
ngx_http_parley_is_preflight(ngx_http_request_t *r)
{
    return r->method == NGX_HTTP_OPTIONS
           && ngx_http_parley_find_header(&r->headers_in.headers,
                                          &ngx_http_parley_origin_header)
           && ngx_http_parley_find_header(&r->headers_in.headers,
                                   &ngx_http_parley_request_method_header);
}


/*
 * Answers a preflight from an allowed origin with 204 and the CORS
 * headers, and refuses any other with 403.  NGX_AGAIN while the engine
 * is asked, NGX_DONE once answered, or NGX_ERROR.
 */

ngx_int_t
ngx_http_parley_cors_preflight(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx)
{
    ngx_int_t                    rc;
    ngx_table_elt_t             *h;
    ngx_http_parley_header_t    *hdr;
    ngx_http_parley_loc_conf_t  *plcf;

    if (!ngx_http_parley_is_preflight(r)) {
        return ngx_http_parley_refuse_origin(r);
    }

    h = ngx_http_parley_find_header(&r->headers_in.headers,
                                    &ngx_http_parley_origin_header);
    ctx->origin = h->value;

    rc = ngx_http_parley_origin_allowed(r, ctx);

    if (rc == NGX_DECLINED) {
        return ngx_http_parley_refuse_origin(r);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    ctx->cors = 1;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_parley_module);

    if (ngx_http_parley_add_header(r, &ngx_http_parley_allow_methods,
                                   &plcf->allow)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (hdr = ngx_http_parley_preflight_headers; hdr->name.len; hdr++) {
        if (ngx_http_parley_add_header(r, &hdr->name, &hdr->value) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->header_only = 1;

    ngx_http_finalize_request(r, ngx_http_send_header(r));

    return NGX_DONE;
}


/*
 * A request of a widget token: its Origin is allowed when it is the one
 * the token was issued to.  Another Origin only gets no CORS headers, so
 * that the browser keeps the answer from that page.
 */

void
ngx_http_parley_cors_token(ngx_http_request_t *r, ngx_http_parley_ctx_t *ctx)
{
    ngx_table_elt_t  *h;

    h = ngx_http_parley_find_header(&r->headers_in.headers,
                                    &ngx_http_parley_origin_header);

    if (h == NULL) {
        return;
    }

    ctx->origin = h->value;

    ctx->cors = (h->value.len == ctx->token_origin.len
                 && ngx_memcmp(h->value.data, ctx->token_origin.data,
                               h->value.len)
                    == 0);
}


/*
 * A public bootstrap request: one with an Origin that no tenant allows is
 * refused here (403), one without passes (the engine checks what it
 * needs), and so does one of this site's own origin, without CORS
 * headers.  NGX_OK, NGX_AGAIN while the engine is asked, NGX_DONE once
 * refused, or NGX_ERROR.
 */

ngx_int_t
ngx_http_parley_cors_check(ngx_http_request_t *r, ngx_http_parley_ctx_t *ctx)
{
    ngx_int_t         rc;
    ngx_table_elt_t  *h;

    h = ngx_http_parley_find_header(&r->headers_in.headers,
                                    &ngx_http_parley_origin_header);

    if (h == NULL) {
        return NGX_OK;
    }

    if (ngx_http_parley_same_origin(r, &h->value)) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "parley origin is the request's own");
        return NGX_OK;
    }

    ctx->origin = h->value;

    rc = ngx_http_parley_origin_allowed(r, ctx);

    if (rc == NGX_DECLINED) {
        return ngx_http_parley_refuse_origin(r);
    }

    if (rc == NGX_OK) {
        ctx->cors = 1;
    }

    return rc;
}


/* from the header filter of a "parley_cors" location; ctx may be NULL */

ngx_int_t
ngx_http_parley_cors_headers(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx)
{
    ngx_http_parley_header_t  *hdr;

    /* the answer depends on the Origin, for every cache on the way */

    hdr = &ngx_http_parley_vary;

    if (ngx_http_parley_add_header(r, &hdr->name, &hdr->value) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ctx == NULL || !ctx->cors) {
        return NGX_OK;
    }

    hdr = &ngx_http_parley_allow_origin;

    if (ngx_http_parley_add_header(r, &hdr->name, &ctx->origin) != NGX_OK) {
        return NGX_ERROR;
    }

    if (r->method == NGX_HTTP_OPTIONS) {
        return NGX_OK;
    }

    hdr = &ngx_http_parley_expose;

    return ngx_http_parley_add_header(r, &hdr->name, &hdr->value);
}


/*
 * NGX_OK: some active tenant allows ctx->origin; NGX_DECLINED: none does;
 * NGX_AGAIN while the engine is asked; NGX_DONE once refused for want of
 * an answer; NGX_ERROR.
 */

static ngx_int_t
ngx_http_parley_origin_allowed(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx)
{
    u_char                       *p;
    ngx_int_t                     rc;
    ngx_str_t                     buf, args;
    ngx_http_parley_identity_t    identity;
    ngx_http_parley_main_conf_t  *pmcf;

    if (ctx->subrequest) {

        if (!ctx->done) {
            return NGX_AGAIN;
        }

        return ngx_http_parley_origin_result(r, ctx);
    }

    if (!ngx_http_parley_origin_well_formed(&ctx->origin)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "parley: malformed origin");
        return NGX_DECLINED;
    }

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_parley_module);

    /*
     * a key never starts with "origin ": the two never share a hash, and
     * the entry's kind keeps them apart on every hit besides
     */

    buf.len = ngx_http_parley_origin_prefix.len + ctx->origin.len;
    buf.data = ngx_pnalloc(r->pool, buf.len);
    if (buf.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(buf.data, ngx_http_parley_origin_prefix.data,
                   ngx_http_parley_origin_prefix.len);
    ngx_memcpy(p, ctx->origin.data, ctx->origin.len);

    if (ngx_http_parley_sha256(pmcf, buf.data, buf.len, ctx->key_hash)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "parley: SHA-256 failed");
        return NGX_ERROR;
    }

    rc = ngx_http_parley_cache_lookup(pmcf->key_cache,
                                      NGX_HTTP_PARLEY_CACHE_ORIGIN,
                                      ctx->key_hash, &identity);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "parley origin \"%V\" cache lookup: %i", &ctx->origin, rc);

    if (rc != NGX_AGAIN) {
        ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_CACHE_HIT, 1);
        return rc;
    }

    ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_CACHE_MISS, 1);

    /* a well-formed origin needs no escaping in the query */

    args.len = sizeof("origin=") - 1 + ctx->origin.len;
    args.data = ngx_pnalloc(r->pool, args.len);
    if (args.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(args.data, "origin=", sizeof("origin=") - 1);
    ngx_memcpy(p, ctx->origin.data, ctx->origin.len);

    return ngx_http_parley_introspect(r, ctx, &args);
}


static ngx_int_t
ngx_http_parley_origin_result(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx)
{
    ngx_msec_t                    ttl;
    ngx_http_parley_identity_t    identity;
    ngx_http_parley_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_parley_module);

    if (ctx->status == NGX_HTTP_NOT_FOUND) {
        ngx_http_parley_cache_store(pmcf->key_cache,
                                    NGX_HTTP_PARLEY_CACHE_ORIGIN,
                                    ctx->key_hash, NULL,
                                    pmcf->key_negative_ttl);
        return NGX_DECLINED;
    }

    if (ctx->status != NGX_HTTP_OK
        || ngx_http_parley_introspect_ttl(ctx->subrequest, &ttl) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "parley: origin introspection failed with status %ui, "
                      "refusing the request", ctx->status);

        ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_AUTH_UNAVAILABLE, 1);

        return ngx_http_parley_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          &ngx_http_parley_origin_unavailable);
    }

    /* an allowed origin is nobody's identity: the entry only says yes */

    ngx_memzero(&identity, sizeof(ngx_http_parley_identity_t));

    ngx_http_parley_cache_store(pmcf->key_cache,
                                NGX_HTTP_PARLEY_CACHE_ORIGIN, ctx->key_hash,
                                &identity, ngx_min(ttl, pmcf->key_cache_ttl));

    return NGX_OK;
}


/*
 * "http[s]://host[:port]" in lowercase, as tenants' allowed origins are
 * stored; anything else ("null" included) is no tenant's.
 */

static ngx_uint_t
ngx_http_parley_origin_well_formed(ngx_str_t *origin)
{
    u_char  c, *p, *last;

    if (origin->len > PARLEY_ORIGIN_MAX) {
        return 0;
    }

    p = origin->data;
    last = p + origin->len;

    if (origin->len > sizeof("https://") - 1
        && ngx_strncmp(p, "https://", sizeof("https://") - 1) == 0)
    {
        p += sizeof("https://") - 1;

    } else if (origin->len > sizeof("http://") - 1
               && ngx_strncmp(p, "http://", sizeof("http://") - 1) == 0)
    {
        p += sizeof("http://") - 1;

    } else {
        return 0;
    }

    while (p < last) {
        c = *p++;

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
              || c == '.' || c == '-' || c == ':'))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * Whether an Origin is the request's own: the connection's scheme, then
 * the Host header as the client sent it, compared exactly (a browser
 * sends both without a default port).  Behind a proxy that terminates
 * TLS the connection is plain HTTP, and so is the origin compared.
 */

static ngx_uint_t
ngx_http_parley_same_origin(ngx_http_request_t *r, ngx_str_t *origin)
{
    size_t      len;
    ngx_str_t  *host;

    if (r->headers_in.host == NULL) {
        return 0;
    }

    host = &r->headers_in.host->value;

    /*
     * On a TLS connection only "https://" is this site; on a plain one
     * "http://" is, and so is "https://": the TLS of a site behind a proxy
     * (parley-site.conf) ends before nginx, and its pages are https
     */

    if (origin->len > 8 && ngx_strncmp(origin->data, "https://", 8) == 0) {
        len = 8;

#if (NGX_HTTP_SSL)
    } else if (r->connection->ssl) {
        return 0;
#endif

    } else if (origin->len > 7
               && ngx_strncmp(origin->data, "http://", 7) == 0)
    {
        len = 7;

    } else {
        return 0;
    }

    return origin->len == len + host->len
           && ngx_memcmp(origin->data + len, host->data, host->len) == 0;
}


static ngx_int_t
ngx_http_parley_refuse_origin(ngx_http_request_t *r)
{
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "parley: origin not allowed");

    ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_ORIGIN, 1);

    return ngx_http_parley_send_error(r, NGX_HTTP_FORBIDDEN,
                                      &ngx_http_parley_origin_not_allowed);
}
