
/*
 * Copyright (C) Parley
 *
 * The Parley edge: secret key authentication with an introspection cache,
 * per-tenant rate limits, security headers, removal of client-sent
 * X-Parley-* headers and the signed X-Parley-Context for the engine.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_parley.h"


static ngx_int_t ngx_http_parley_rewrite_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_parley_access_handler(ngx_http_request_t *r);
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
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_parley_headers_modes[] = {
    { ngx_string("off"), NGX_HTTP_PARLEY_HEADERS_OFF },
    { ngx_string("api"), NGX_HTTP_PARLEY_HEADERS_API },
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

    { ngx_string("parley_headers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_parley_loc_conf_t, headers),
      &ngx_http_parley_headers_modes },

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

    if (ngx_http_parley_strip_headers(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


/*
 * Authentication identifies the tenant first; only then can the limit
 * keyed on the tenant run, so both live in this one access handler.
 */

static ngx_int_t
ngx_http_parley_access_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_http_parley_ctx_t       *ctx;
    ngx_http_parley_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_parley_module);

    if (plcf->auth == NGX_HTTP_PARLEY_AUTH_OFF) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_parley_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_parley_ctx_t));
        if (ctx == NULL) {
            return NGX_ERROR;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_parley_module);
    }

    if (!ctx->authenticated) {
        rc = ngx_http_parley_authenticate(r, ctx);

        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (plcf->limit_zone) {
        rc = ngx_http_parley_limit_check(r, ctx);

        if (rc != NGX_OK) {
            return rc;
        }
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
     */

    pmcf->key_cache_ttl = NGX_CONF_UNSET_MSEC;
    pmcf->key_negative_ttl = NGX_CONF_UNSET_MSEC;
    pmcf->request_id_index = NGX_ERROR;

    return pmcf;
}


static char *
ngx_http_parley_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_parley_main_conf_t *pmcf = conf;

    ngx_str_t  request_id = ngx_string("request_id");

    ngx_conf_init_msec_value(pmcf->key_cache_ttl, 30000);
    ngx_conf_init_msec_value(pmcf->key_negative_ttl, 5000);

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
     */

    plcf->auth = NGX_CONF_UNSET_UINT;
    plcf->limit_zone = NGX_CONF_UNSET_PTR;
    plcf->limit_rpm = NGX_CONF_UNSET_UINT;
    plcf->limit_burst = NGX_CONF_UNSET_UINT;
    plcf->limit_dry_run = NGX_CONF_UNSET;
    plcf->limit_log_level = NGX_CONF_UNSET_UINT;
    plcf->headers = NGX_CONF_UNSET_UINT;

    return plcf;
}


static char *
ngx_http_parley_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_parley_loc_conf_t *prev = parent;
    ngx_http_parley_loc_conf_t *conf = child;

    ngx_http_parley_main_conf_t  *pmcf;

    ngx_conf_merge_uint_value(conf->auth, prev->auth,
                              NGX_HTTP_PARLEY_AUTH_OFF);
    ngx_conf_merge_str_value(conf->introspect, prev->introspect, "");

    /* "parley_limit" sets the zone, the rate and the burst together */

    if (conf->limit_zone == NGX_CONF_UNSET_PTR) {
        conf->limit_zone = prev->limit_zone;
        conf->limit_rpm = prev->limit_rpm;
        conf->limit_burst = prev->limit_burst;
    }

    if (conf->limit_zone == NGX_CONF_UNSET_PTR) {
        conf->limit_zone = NULL;
    }

    ngx_conf_merge_value(conf->limit_dry_run, prev->limit_dry_run, 0);
    ngx_conf_merge_uint_value(conf->limit_log_level, prev->limit_log_level,
                              NGX_LOG_ERR);
    ngx_conf_merge_uint_value(conf->headers, prev->headers,
                              NGX_HTTP_PARLEY_HEADERS_OFF);

    if (conf->auth == NGX_HTTP_PARLEY_AUTH_OFF) {

        if (conf->limit_zone) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"parley_limit tenant\" needs "
                               "\"parley_auth secret\" to know the tenant");
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_parley_module);

    if (pmcf->secret.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"parley_auth\" needs "
                           "\"parley_edge_secret_file\"");
        return NGX_CONF_ERROR;
    }

    if (pmcf->key_cache == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"parley_auth\" needs \"parley_key_cache\"");
        return NGX_CONF_ERROR;
    }

    if (conf->introspect.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"parley_auth\" needs \"parley_introspect\"");
        return NGX_CONF_ERROR;
    }

    if (conf->limit_zone
        && conf->limit_zone->init != ngx_http_parley_limit_init_zone)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is not a \"parley_limit_zone\"",
                           &conf->limit_zone->shm.name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_parley_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_parley_rewrite_handler;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_parley_access_handler;

    return ngx_http_parley_header_filter_init(cf);
}
