
/*
 * Copyright (C) Parley
 *
 * The Parley edge: validation of methods and media types, authentication
 * (secret keys with an introspection cache, widget tokens and widget
 * stream ids, the admin token, the public widget bootstrap), rate limits
 * and concurrent stream slots, CORS for the widget API, security headers,
 * removal of client-sent X-Parley-* headers, the signed X-Parley-Context
 * for the engine, and a status page.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_parley.h"


static ngx_int_t ngx_http_parley_rewrite_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_parley_access_handler(ngx_http_request_t *r);
static void ngx_http_parley_sha256_free(void *data);
static ngx_int_t ngx_http_parley_preconfiguration(ngx_conf_t *cf);
static void *ngx_http_parley_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_parley_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_parley_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_parley_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_parley_init(ngx_conf_t *cf);


static ngx_conf_enum_t  ngx_http_parley_auth_modes[] = {
    { ngx_string("off"), NGX_HTTP_PARLEY_AUTH_OFF },
    { ngx_string("secret"), NGX_HTTP_PARLEY_AUTH_SECRET },
    { ngx_string("widget"), NGX_HTTP_PARLEY_AUTH_WIDGET },
    { ngx_string("admin"), NGX_HTTP_PARLEY_AUTH_ADMIN },
    { ngx_string("public"), NGX_HTTP_PARLEY_AUTH_PUBLIC },
    { ngx_string("widget_stream"), NGX_HTTP_PARLEY_AUTH_WIDGET_STREAM },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_parley_headers_modes[] = {
    { ngx_string("off"), NGX_HTTP_PARLEY_HEADERS_OFF },
    { ngx_string("api"), NGX_HTTP_PARLEY_HEADERS_API },
    { ngx_string("page"), NGX_HTTP_PARLEY_HEADERS_PAGE },
    { ngx_string("asset"), NGX_HTTP_PARLEY_HEADERS_ASSET },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_parley_log_levels[] = {
    { ngx_string("info"), NGX_LOG_INFO },
    { ngx_string("notice"), NGX_LOG_NOTICE },
    { ngx_string("warn"), NGX_LOG_WARN },
    { ngx_string("error"), NGX_LOG_ERR },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_parley_commands[] = {

    { ngx_string("parley_edge_secret_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_parley_edge_secret_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("parley_key_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_parley_key_cache,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("parley_key_cache_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_parley_main_conf_t, key_cache_ttl),
      NULL },

    { ngx_string("parley_key_negative_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_parley_main_conf_t, key_negative_ttl),
      NULL },

    { ngx_string("parley_limit_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_parley_limit_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("parley_admin_token_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_parley_admin_token_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("parley_widget_keys"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_parley_widget_keys,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("parley_widget_clock_skew"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_parley_main_conf_t, widget_skew),
      NULL },

    { ngx_string("parley_stream_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_parley_stream_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("parley_status_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_parley_status_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("parley_auth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_parley_loc_conf_t, auth),
      &ngx_http_parley_auth_modes },

    { ngx_string("parley_introspect"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_parley_loc_conf_t, introspect),
      NULL },

    { ngx_string("parley_limit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_parley_limit,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("parley_limit_dry_run"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_parley_loc_conf_t, limit_dry_run),
      NULL },

    { ngx_string("parley_limit_log_level"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_parley_loc_conf_t, limit_log_level),
      &ngx_http_parley_log_levels },

    { ngx_string("parley_streams"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_parley_streams,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("parley_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_parley_status,
      0,
      0,
      NULL },

    { ngx_string("parley_headers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_parley_loc_conf_t, headers),
      &ngx_http_parley_headers_modes },

    { ngx_string("parley_methods"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_parley_methods,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("parley_json_body"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_parley_loc_conf_t, json_body),
      NULL },

    { ngx_string("parley_multipart_body"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_parley_loc_conf_t, multipart_body),
      NULL },

    { ngx_string("parley_cors"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_parley_loc_conf_t, cors),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_parley_module_ctx = {
    ngx_http_parley_preconfiguration,      /* preconfiguration */
    ngx_http_parley_init,                  /* postconfiguration */

    ngx_http_parley_create_main_conf,      /* create main configuration */
    ngx_http_parley_init_main_conf,        /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_parley_create_loc_conf,       /* create location configuration */
    ngx_http_parley_merge_loc_conf         /* merge location configuration */
};


ngx_module_t  ngx_http_parley_module = {
    NGX_MODULE_V1,
    &ngx_http_parley_module_ctx,           /* module context */
    ngx_http_parley_commands,              /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/*
 * Client-sent X-Parley-* headers are removed in the rewrite phase: unlike
 * the access phase, no other handler can end that phase early for us.
 */

static ngx_int_t
ngx_http_parley_rewrite_handler(ngx_http_request_t *r)
{
    ngx_http_parley_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_parley_module);

    if (plcf->auth == NGX_HTTP_PARLEY_AUTH_OFF
        && plcf->headers == NGX_HTTP_PARLEY_HEADERS_OFF)
    {
        return NGX_DECLINED;
    }

    if (plcf->auth == NGX_HTTP_PARLEY_AUTH_PUBLIC
        && ngx_http_parley_site_key(r) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (plcf->auth == NGX_HTTP_PARLEY_AUTH_WIDGET_STREAM
        && ngx_http_parley_stream_redact(r) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_parley_strip_headers(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


/*
 * Authentication establishes the identity first; only then can the limits
 * keyed on it run, so all of them live in this one access handler.  A
 * stream slot is taken before the rate limits are charged, so that a
 * request refused for want of a slot costs no rate, nor one whose body
 * is not JSON where it must be.  The origin of a public request, and of
 * a CORS preflight, is looked up only after the limits per client address
 * let it pass, so that a client cannot make the edge ask the engine
 * faster than they allow, whatever origins it makes up.  A preflight
 * carries no credential: only those limits apply to it, and it is
 * answered before the rest.  The handler runs again when an introspection
 * subrequest is done: each step that ran already is skipped.
 */

static ngx_int_t
ngx_http_parley_access_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_http_parley_ctx_t       *ctx;
    ngx_http_parley_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_parley_module);

    if (plcf->auth == NGX_HTTP_PARLEY_AUTH_OFF && plcf->limits == NULL
        && !plcf->json_body)
    {
        return NGX_DECLINED;
    }

    ctx = ngx_http_parley_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (plcf->cors && r->method == NGX_HTTP_OPTIONS) {

        if (plcf->limits && !ctx->limited) {
            rc = ngx_http_parley_limit_check(r, ctx,
                                             NGX_HTTP_PARLEY_LIMITS_PREFLIGHT);

            if (rc != NGX_OK) {
                return rc;
            }
        }

        return ngx_http_parley_cors_preflight(r, ctx);
    }

    if (!ctx->authenticated) {

        switch (plcf->auth) {

        case NGX_HTTP_PARLEY_AUTH_SECRET:
            rc = ngx_http_parley_authenticate(r, ctx);
            break;

        case NGX_HTTP_PARLEY_AUTH_WIDGET:
            rc = ngx_http_parley_widget_authenticate(r, ctx);
            break;

        case NGX_HTTP_PARLEY_AUTH_WIDGET_STREAM:
            rc = ngx_http_parley_widget_stream_authenticate(r, ctx);
            break;

        case NGX_HTTP_PARLEY_AUTH_ADMIN:
            rc = ngx_http_parley_admin_authenticate(r, ctx);
            break;

        case NGX_HTTP_PARLEY_AUTH_PUBLIC:
            rc = ngx_http_parley_public_authenticate(r, ctx);
            break;

        default: /* NGX_HTTP_PARLEY_AUTH_OFF */
            rc = NGX_OK;
        }

        if (rc != NGX_OK) {
            return rc;
        }

        if (plcf->cors && ctx->auth == NGX_HTTP_PARLEY_AUTH_WIDGET) {
            ngx_http_parley_cors_token(r, ctx);
        }
    }

    if (plcf->json_body) {
        rc = ngx_http_parley_validate_body(r);

        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (plcf->streams_zone && !ctx->stream) {
        rc = ngx_http_parley_streams_acquire(r, ctx);

        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (plcf->limits && !ctx->limited) {
        rc = ngx_http_parley_limit_check(r, ctx,
                                         NGX_HTTP_PARLEY_LIMITS_REQUEST);

        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (plcf->cors && ctx->auth == NGX_HTTP_PARLEY_AUTH_PUBLIC) {
        rc = ngx_http_parley_cors_check(r, ctx);

        if (rc != NGX_OK) {
            return rc;
        }
    }

    /* a stream id counts as the widget credential it stands for */

    ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_ALLOWED + ctx->auth, 1);

    return (plcf->auth == NGX_HTTP_PARLEY_AUTH_OFF) ? NGX_DECLINED : NGX_OK;
}


/* the request's context, made by the first phase handler that needs it */

ngx_http_parley_ctx_t *
ngx_http_parley_get_ctx(ngx_http_request_t *r)
{
    ngx_http_parley_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_parley_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_parley_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_parley_module);
    }

    return ctx;
}


/*
 * SHA-256 with the configuration's digest context: EVP_Digest() would
 * allocate and free one on every call.  Workers are single-threaded.
 */

ngx_int_t
ngx_http_parley_sha256(ngx_http_parley_main_conf_t *pmcf, u_char *data,
    size_t len, u_char *md)
{
    if (EVP_DigestInit_ex(pmcf->sha256_ctx, pmcf->sha256, NULL) != 1
        || EVP_DigestUpdate(pmcf->sha256_ctx, data, len) != 1
        || EVP_DigestFinal_ex(pmcf->sha256_ctx, md, NULL) != 1)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Sends an edge refusal from a phase handler and finalizes the request;
 * the handler then returns NGX_DONE so that the phase engine stops.  The
 * response goes through the header filters, so it carries the security
 * and RateLimit headers like any other.
 */

ngx_int_t
ngx_http_parley_send_error(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *body)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    /* the body was never read: drop it so the connection can be kept */

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = body->len;

    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_finalize_request(r, rc);
        return NGX_DONE;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        ngx_http_finalize_request(r, NGX_ERROR);
        return NGX_DONE;
    }

    b->pos = body->data;
    b->last = body->data + body->len;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    ngx_http_finalize_request(r, ngx_http_output_filter(r, &out));

    return NGX_DONE;
}


/*
 * Reads a file of secrets at configuration time: they live in the
 * configuration's memory only and are never logged.
 */

ngx_int_t
ngx_http_parley_read_file(ngx_conf_t *cf, ngx_str_t *name, size_t max,
    ngx_str_t *content)
{
    u_char           *buf;
    size_t            size;
    ssize_t           n;
    ngx_file_t        file;
    ngx_file_info_t   fi;

    ngx_memzero(&file, sizeof(ngx_file_t));

    file.name = *name;
    file.log = cf->log;

    if (ngx_conf_full_name(cf->cycle, &file.name, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    file.fd = ngx_open_file(file.name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%s\" failed", file.name.data);
        return NGX_ERROR;
    }

    buf = NULL;

    if (ngx_fd_info(file.fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%s\" failed", file.name.data);
        goto done;
    }

    size = (size_t) ngx_file_size(&fi);

    if (size > max) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" is larger than %uz bytes",
                           file.name.data, max);
        goto done;
    }

    if (ngx_file_access(&fi) & 0077) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "secret file \"%s\" is accessible by other users",
                           file.name.data);
    }

    /* one more byte: an empty file still gets a buffer */

    buf = ngx_pnalloc(cf->pool, size + 1);
    if (buf == NULL) {
        goto done;
    }

    n = ngx_read_file(&file, buf, size, 0);

    if (n == NGX_ERROR || (size_t) n != size) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "could not read \"%s\"", file.name.data);
        buf = NULL;
        goto done;
    }

    content->data = buf;
    content->len = size;

done:

    if (ngx_close_file(file.fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%s\" failed", file.name.data);
    }

    return (buf == NULL) ? NGX_ERROR : NGX_OK;
}


/* parses the "zone=<name>:<size>" parameter of the zone directives */

ngx_int_t
ngx_http_parley_zone_arg(ngx_conf_t *cf, ngx_str_t *value, ngx_str_t *name,
    ssize_t *size)
{
    u_char     *p;
    ngx_str_t   s;

    if (ngx_strncmp(value->data, "zone=", 5) != 0) {
        goto invalid;
    }

    name->data = value->data + 5;

    p = (u_char *) ngx_strchr(name->data, ':');

    if (p == NULL || p == name->data) {
        goto invalid;
    }

    name->len = p - name->data;

    s.data = p + 1;
    s.len = value->data + value->len - s.data;

    *size = ngx_parse_size(&s);

    if (*size == NGX_ERROR) {
        goto invalid;
    }

    if (*size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small", name);
        return NGX_ERROR;
    }

    return NGX_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\", expected "
                       "\"zone=<name>:<size>\"", value);

    return NGX_ERROR;
}


static void
ngx_http_parley_sha256_free(void *data)
{
    ngx_http_parley_main_conf_t *pmcf = data;

    EVP_MD_CTX_free(pmcf->sha256_ctx);
    EVP_MD_free(pmcf->sha256);
}


static ngx_int_t
ngx_http_parley_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_parley_add_variables(cf);
}


static void *
ngx_http_parley_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_parley_main_conf_t  *pmcf;

    pmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_parley_main_conf_t));
    if (pmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     pmcf->secret = { 0, NULL };
     *     pmcf->key_cache = NULL;
     *     pmcf->admin_hash = { 0, NULL };
     *     pmcf->widget_keys = NULL;
     *     pmcf->status = NULL;
     *     pmcf->status_page = 0;
     *     pmcf->sha256 = NULL;
     *     pmcf->sha256_ctx = NULL;
     */

    pmcf->key_cache_ttl = NGX_CONF_UNSET_MSEC;
    pmcf->key_negative_ttl = NGX_CONF_UNSET_MSEC;
    pmcf->widget_skew = NGX_CONF_UNSET;
    pmcf->request_id_index = NGX_ERROR;

    return pmcf;
}


static char *
ngx_http_parley_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_parley_main_conf_t *pmcf = conf;

    ngx_pool_cleanup_t  *cln;
    ngx_str_t            request_id = ngx_string("request_id");

    ngx_conf_init_msec_value(pmcf->key_cache_ttl, 30000);
    ngx_conf_init_msec_value(pmcf->key_negative_ttl, 5000);

    /* a widget's clock and ours may differ a little, no more */
    ngx_conf_init_value(pmcf->widget_skew, 30);

    if (pmcf->status_page && pmcf->status == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"parley_status\" needs \"parley_status_zone\"");
        return NGX_CONF_ERROR;
    }

    /*
     * SHA-256 fetched once per configuration: EVP_sha256() would make
     * OpenSSL 3 look the implementation up, under a lock, on every request;
     * and one digest context for all of the requests
     */

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_parley_sha256_free;
    cln->data = pmcf;

    pmcf->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (pmcf->sha256 == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "EVP_MD_fetch(\"SHA256\") failed");
        return NGX_CONF_ERROR;
    }

    pmcf->sha256_ctx = EVP_MD_CTX_new();
    if (pmcf->sha256_ctx == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "EVP_MD_CTX_new() failed");
        return NGX_CONF_ERROR;
    }

    pmcf->request_id_index = ngx_http_get_variable_index(cf, &request_id);
    if (pmcf->request_id_index == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_parley_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_parley_loc_conf_t  *plcf;

    plcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_parley_loc_conf_t));
    if (plcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     plcf->introspect = { 0, NULL };
     *     plcf->limit_zones = NULL;
     *     plcf->methods = 0;
     *     plcf->allow = { 0, NULL };
     */

    plcf->auth = NGX_CONF_UNSET_UINT;
    plcf->limits = NGX_CONF_UNSET_PTR;
    plcf->streams_zone = NGX_CONF_UNSET_PTR;
    plcf->max_streams = NGX_CONF_UNSET_UINT;
    plcf->limit_dry_run = NGX_CONF_UNSET;
    plcf->limit_log_level = NGX_CONF_UNSET_UINT;
    plcf->headers = NGX_CONF_UNSET_UINT;
    plcf->json_body = NGX_CONF_UNSET;
    plcf->multipart_body = NGX_CONF_UNSET;
    plcf->cors = NGX_CONF_UNSET;

    return plcf;
}


static char *
ngx_http_parley_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_parley_loc_conf_t *prev = parent;
    ngx_http_parley_loc_conf_t *conf = child;

    ngx_http_core_loc_conf_t     *clcf;
    ngx_http_parley_main_conf_t  *pmcf;

    ngx_conf_merge_uint_value(conf->auth, prev->auth,
                              NGX_HTTP_PARLEY_AUTH_OFF);
    ngx_conf_merge_str_value(conf->introspect, prev->introspect, "");

    /*
     * Under "satisfy any" nginx grants access as soon as one access handler
     * does and skips the others: an "allow" would let a request past its
     * credential.  nginx's core module is merged before this one, so the
     * location's "satisfy" is known here.
     */

    if (conf->auth != NGX_HTTP_PARLEY_AUTH_OFF) {
        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

        if (clcf->satisfy != NGX_HTTP_SATISFY_ALL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"parley_auth\" needs \"satisfy all\"");
            return NGX_CONF_ERROR;
        }
    }

    /* "parley_limit" lines are inherited all together, like limit_req */

    if (conf->limits == NGX_CONF_UNSET_PTR) {
        conf->limits = prev->limits;
        conf->limit_zones = prev->limit_zones;
    }

    if (conf->limits == NGX_CONF_UNSET_PTR) {
        conf->limits = NULL;
    }

    /* "parley_streams" sets the zone and the default together */

    if (conf->streams_zone == NGX_CONF_UNSET_PTR) {
        conf->streams_zone = prev->streams_zone;
        conf->max_streams = prev->max_streams;
    }

    if (conf->streams_zone == NGX_CONF_UNSET_PTR) {
        conf->streams_zone = NULL;
    }

    ngx_conf_merge_value(conf->limit_dry_run, prev->limit_dry_run, 0);
    ngx_conf_merge_uint_value(conf->limit_log_level, prev->limit_log_level,
                              NGX_LOG_ERR);
    ngx_conf_merge_uint_value(conf->headers, prev->headers,
                              NGX_HTTP_PARLEY_HEADERS_OFF);

    /* "parley_methods" sets the methods and their "Allow" together */

    if (conf->methods == 0) {
        conf->methods = prev->methods;
        conf->allow = prev->allow;
    }

    ngx_conf_merge_value(conf->json_body, prev->json_body, 0);
    ngx_conf_merge_value(conf->multipart_body, prev->multipart_body, 0);
    ngx_conf_merge_value(conf->cors, prev->cors, 0);

    if (ngx_http_parley_limit_merge(cf, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (conf->streams_zone
        && !ngx_http_parley_zone_is(conf->streams_zone,
                                    NGX_HTTP_PARLEY_ZONE_STREAMS))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is not a \"parley_stream_zone\"",
                           &conf->streams_zone->shm.name);
        return NGX_CONF_ERROR;
    }

    if (conf->streams_zone
        && conf->auth != NGX_HTTP_PARLEY_AUTH_SECRET
        && conf->auth != NGX_HTTP_PARLEY_AUTH_WIDGET
        && conf->auth != NGX_HTTP_PARLEY_AUTH_WIDGET_STREAM)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"parley_streams\" needs \"parley_auth secret\", "
                           "\"widget\" or \"widget_stream\" to know "
                           "the tenant");
        return NGX_CONF_ERROR;
    }

    if (conf->cors
        && conf->auth != NGX_HTTP_PARLEY_AUTH_WIDGET
        && conf->auth != NGX_HTTP_PARLEY_AUTH_WIDGET_STREAM
        && conf->auth != NGX_HTTP_PARLEY_AUTH_PUBLIC)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"parley_cors\" needs \"parley_auth widget\", "
                           "\"widget_stream\" or \"public\"");
        return NGX_CONF_ERROR;
    }

    /* a preflight's answer names the methods */

    if (conf->cors && conf->methods == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"parley_cors\" needs \"parley_methods\"");
        return NGX_CONF_ERROR;
    }

    if (conf->auth == NGX_HTTP_PARLEY_AUTH_OFF) {
        return NGX_CONF_OK;
    }

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_parley_module);

    /* the origins of preflights and public requests: introspection */

    if (conf->cors && pmcf->key_cache == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"parley_cors\" needs \"parley_key_cache\"");
        return NGX_CONF_ERROR;
    }

    if (conf->cors && conf->introspect.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"parley_cors\" needs \"parley_introspect\"");
        return NGX_CONF_ERROR;
    }

    if (pmcf->secret.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"parley_auth\" needs "
                           "\"parley_edge_secret_file\"");
        return NGX_CONF_ERROR;
    }

    switch (conf->auth) {

    case NGX_HTTP_PARLEY_AUTH_WIDGET:
    case NGX_HTTP_PARLEY_AUTH_WIDGET_STREAM:

        if (pmcf->widget_keys == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"parley_auth %s\" needs "
                               "\"parley_widget_keys\"",
                               (conf->auth == NGX_HTTP_PARLEY_AUTH_WIDGET)
                               ? "widget" : "widget_stream");
            return NGX_CONF_ERROR;
        }

        break;

    case NGX_HTTP_PARLEY_AUTH_ADMIN:

        if (pmcf->admin_hash.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"parley_auth admin\" needs "
                               "\"parley_admin_token_file\"");
            return NGX_CONF_ERROR;
        }

        break;

    case NGX_HTTP_PARLEY_AUTH_PUBLIC:
        break;

    default: /* NGX_HTTP_PARLEY_AUTH_SECRET */

        if (pmcf->key_cache == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"parley_auth secret\" needs "
                               "\"parley_key_cache\"");
            return NGX_CONF_ERROR;
        }

        if (conf->introspect.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"parley_auth secret\" needs "
                               "\"parley_introspect\"");
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_parley_init(ngx_conf_t *cf)
{
    ngx_array_t                *a;
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_parley_validate_handler;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_parley_rewrite_handler;

    /*
     * A phase runs its handlers from the last added on, and a dynamic
     * module's are added after nginx's own: pushed, this one would run
     * before "allow"/"deny".  First in the array, it runs last, so that
     * an address the location denies is refused before its credential is
     * looked at (nothing to learn there) or any limit charged.
     */

    a = &cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers;

    if (ngx_array_push(a) == NULL) {
        return NGX_ERROR;
    }

    h = a->elts;
    ngx_memmove(&h[1], &h[0], (a->nelts - 1) * sizeof(ngx_http_handler_pt));
    h[0] = ngx_http_parley_access_handler;

    return ngx_http_parley_header_filter_init(cf);
}
