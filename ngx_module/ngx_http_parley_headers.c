
/*
 * Copyright (C) Parley
 *
 * Headers: removal of every client-sent X-Parley-* request header, and a
 * header filter adding the security headers, the RateLimit headers and
 * the CORS headers.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_parley.h"


/* the security headers, HSTS and the two RateLimit headers */
#define NGX_HTTP_PARLEY_SET_MAX  8


static ngx_uint_t ngx_http_parley_is_parley_header(ngx_str_t *name);
static ngx_int_t ngx_http_parley_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_parley_rate_headers(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx, ngx_http_parley_header_t *rate);
static u_char *ngx_http_parley_uint(u_char *p, ngx_uint_t n);
static ngx_int_t ngx_http_parley_set_headers(ngx_http_request_t *r,
    ngx_http_parley_header_t **set, ngx_uint_t n, ngx_uint_t headers);


static ngx_http_parley_header_t  ngx_http_parley_api_headers[] = {

    { ngx_string("X-Content-Type-Options"), ngx_string("nosniff") },

    { ngx_string("Referrer-Policy"), ngx_string("no-referrer") },

    { ngx_string("Permissions-Policy"),
      ngx_string("accelerometer=(), camera=(), geolocation=(), "
                 "gyroscope=(), microphone=(), payment=(), usb=()") },

    { ngx_null_string, ngx_null_string }
};


/*
 * Only this site may embed a response, but for the widget's static
 * assets ("parley_headers asset"): a tenant's pages load its loader as
 * <script src>, from their own origin.
 */

static ngx_http_parley_header_t  ngx_http_parley_corp = {
    ngx_string("Cross-Origin-Resource-Policy"), ngx_string("same-origin")
};

static ngx_http_parley_header_t  ngx_http_parley_asset_corp = {
    ngx_string("Cross-Origin-Resource-Policy"), ngx_string("cross-origin")
};


/*
 * A page's CSP is the upstream's (it holds the page's nonce); a response
 * without one gets the API's, which allows nothing: fail closed.
 */

static ngx_http_parley_header_t  ngx_http_parley_api_csp = {
    ngx_string("Content-Security-Policy"),
    ngx_string("default-src 'none'; frame-ancestors 'none'")
};


#if (NGX_HTTP_SSL)

static ngx_http_parley_header_t  ngx_http_parley_hsts = {
    ngx_string("Strict-Transport-Security"), ngx_string("max-age=31536000")
};

#endif


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


/*
 * Removes every client-sent X-Parley-* header (and its X_Parley_* twin,
 * which a backend may read as the same name) so that proxying cannot pass
 * it on.  The kept headers must not move: headers_in points at some of
 * them (host, authorization, ...).  Instead each run of kept headers
 * becomes a list part of its own, and the removed ones fall between the
 * parts.  Users of lists expect no empty part but the first, and
 * ngx_list_push() fills the last part up to nalloc elements: nalloc is
 * cut to what is left of the last run's array.
 */

ngx_int_t
ngx_http_parley_strip_headers(ngx_http_request_t *r)
{
    ngx_uint_t        i, start, found;
    ngx_list_t       *list;
    ngx_list_part_t  *part, *next, head, *tail;
    ngx_table_elt_t  *h, *tail_base;

    list = &r->headers_in.headers;

    found = 0;
    part = &list->part;
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

        if (ngx_http_parley_is_parley_header(&h[i].key)) {
            found = 1;
            break;
        }
    }

    if (!found) {
        return NGX_OK;
    }

    head.next = NULL;
    tail = &head;
    tail_base = NULL;

    for (part = &list->part; part; part = next) {
        next = part->next;
        h = part->elts;
        start = 0;

        for (i = 0; i <= part->nelts; i++) {

            if (i < part->nelts
                && !ngx_http_parley_is_parley_header(&h[i].key))
            {
                continue;
            }

            if (i > start) {
                tail->next = ngx_palloc(r->pool, sizeof(ngx_list_part_t));
                if (tail->next == NULL) {
                    return NGX_ERROR;
                }

                tail = tail->next;
                tail->elts = &h[start];
                tail->nelts = i - start;
                tail->next = NULL;
                tail_base = h;
            }

            if (i < part->nelts) {
                ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                               "parley removed client header \"%V: %V\"",
                               &h[i].key, &h[i].value);
            }

            start = i + 1;
        }
    }

    if (head.next == NULL) {
        list->part.nelts = 0;
        list->part.next = NULL;
        list->last = &list->part;
        return NGX_OK;
    }

    list->nalloc -= (ngx_table_elt_t *) tail->elts - tail_base;

    /* the list's first part is embedded in the list itself */

    list->part = *head.next;
    list->last = (tail == head.next) ? &list->part : tail;

    return NGX_OK;
}


static ngx_uint_t
ngx_http_parley_is_parley_header(ngx_str_t *name)
{
    u_char  *p;

    if (name->len < sizeof(PARLEY_HEADER_PREFIX) - 1) {
        return 0;
    }

    p = name->data;

    return (p[0] == 'x' || p[0] == 'X')
           && (p[1] == '-' || p[1] == '_')
           && ngx_strncasecmp(p + 2, (u_char *) "parley", 6) == 0
           && (p[8] == '-' || p[8] == '_');
}


static ngx_int_t
ngx_http_parley_header_filter(ngx_http_request_t *r)
{
    ngx_uint_t                   n;
    ngx_http_parley_ctx_t       *ctx;
    ngx_http_parley_header_t    *hdr, rate[2];
    ngx_http_parley_header_t    *set[NGX_HTTP_PARLEY_SET_MAX];
    ngx_http_parley_loc_conf_t  *plcf;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_parley_module);

    n = 0;

    if (plcf->headers != NGX_HTTP_PARLEY_HEADERS_OFF) {

        for (hdr = ngx_http_parley_api_headers; hdr->name.len; hdr++) {
            set[n++] = hdr;
        }

        set[n++] = (plcf->headers == NGX_HTTP_PARLEY_HEADERS_ASSET)
                   ? &ngx_http_parley_asset_corp : &ngx_http_parley_corp;

        set[n++] = &ngx_http_parley_api_csp;

#if (NGX_HTTP_SSL)
        if (r->connection->ssl) {
            set[n++] = &ngx_http_parley_hsts;
        }
#endif
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_parley_module);

    if (ctx && (ctx->limited || ctx->concurrency)) {
        if (ngx_http_parley_rate_headers(r, ctx, rate) != NGX_OK) {
            return NGX_ERROR;
        }

        set[n++] = &rate[0];
        set[n++] = &rate[1];
    }

    if (n && ngx_http_parley_set_headers(r, set, n, plcf->headers) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (plcf->cors && ngx_http_parley_cors_headers(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}


/*
 * The IETF httpapi RateLimit headers (draft -11), as structured fields,
 * of the limit that decided; a stream slot is a concurrency quota.
 */

static ngx_int_t
ngx_http_parley_rate_headers(ngx_http_request_t *r, ngx_http_parley_ctx_t *ctx,
    ngx_http_parley_header_t *rate)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool,
                    sizeof("\"\";q=;qu=\"concurrent-requests\"") - 1
                    + sizeof("\"\";r=;t=") - 1 + 2 * ctx->rate_policy.len
                    + 3 * NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_str_set(&rate[0].name, "RateLimit-Policy");
    rate[0].value.data = p;

    *p++ = '"';
    p = ngx_cpymem(p, ctx->rate_policy.data, ctx->rate_policy.len);
    p = ngx_cpymem(p, "\";q=", sizeof("\";q=") - 1);
    p = ngx_http_parley_uint(p, ctx->rate_quota);

    if (ctx->concurrency) {
        p = ngx_cpymem(p, ";qu=\"concurrent-requests\"",
                       sizeof(";qu=\"concurrent-requests\"") - 1);

    } else {
        p = ngx_cpymem(p, ";w=60", sizeof(";w=60") - 1);
    }

    rate[0].value.len = p - rate[0].value.data;

    ngx_str_set(&rate[1].name, "RateLimit");
    rate[1].value.data = p;

    *p++ = '"';
    p = ngx_cpymem(p, ctx->rate_policy.data, ctx->rate_policy.len);
    p = ngx_cpymem(p, "\";r=", sizeof("\";r=") - 1);
    p = ngx_http_parley_uint(p, ctx->rate_remaining);
    p = ngx_cpymem(p, ";t=", sizeof(";t=") - 1);
    p = ngx_http_parley_uint(p, ctx->rate_reset);

    rate[1].value.len = p - rate[1].value.data;

    return NGX_OK;
}


/* a number in decimal, without ngx_sprintf()'s parsing of a format */

static u_char *
ngx_http_parley_uint(u_char *p, ngx_uint_t n)
{
    u_char  *q, digits[NGX_INT_T_LEN];

    q = digits + NGX_INT_T_LEN;

    do {
        *--q = (u_char) (n % 10 + '0');
        n /= 10;
    } while (n);

    return ngx_cpymem(p, q, digits + NGX_INT_T_LEN - q);
}


/*
 * The edge's values win over ones the upstream may have sent, except for
 * a page's CSP; the upstream's other headers (an asset's Cache-Control
 * and ETag among them) are left as they are.  The response's headers are
 * looked through once for all of the names, then the missing ones are
 * added in order.
 */

static ngx_int_t
ngx_http_parley_set_headers(ngx_http_request_t *r,
    ngx_http_parley_header_t **set, ngx_uint_t n, ngx_uint_t headers)
{
    ngx_uint_t        i, j;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *found[NGX_HTTP_PARLEY_SET_MAX];

    ngx_memzero(found, n * sizeof(ngx_table_elt_t *));

    part = &r->headers_out.headers.part;
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

        for (j = 0; j < n; j++) {
            if (found[j] == NULL
                && h[i].key.len == set[j]->name.len
                && ngx_strncasecmp(h[i].key.data, set[j]->name.data,
                                   set[j]->name.len)
                   == 0)
            {
                found[j] = &h[i];
                break;
            }
        }
    }

    for (j = 0; j < n; j++) {

        if (found[j] == NULL) {
            if (ngx_http_parley_add_header(r, &set[j]->name, &set[j]->value)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            continue;
        }

        if (set[j] != &ngx_http_parley_api_csp
            || headers != NGX_HTTP_PARLEY_HEADERS_PAGE)
        {
            found[j]->value = set[j]->value;
        }
    }

    return NGX_OK;
}


/* one more response header, next to any of the same name */

ngx_int_t
ngx_http_parley_add_header(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key = *name;
    h->value = *value;

    return NGX_OK;
}


/* the first header of that name in a request's or a response's list */

ngx_table_elt_t *
ngx_http_parley_find_header(ngx_list_t *headers, ngx_str_t *name)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &headers->part;
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

        if (h[i].hash != 0
            && h[i].key.len == name->len
            && ngx_strncasecmp(h[i].key.data, name->data, name->len) == 0)
        {
            return &h[i];
        }
    }

    return NULL;
}


ngx_int_t
ngx_http_parley_header_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_parley_header_filter;

    return NGX_OK;
}
