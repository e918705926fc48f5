
/*
 * Copyright (C) Parley
 *
 * The $parley_context variable: the signed X-Parley-Context of SPEC 3.5,
 * in the format of shared/parley_context.h, for proxy_set_header.  It is
 * empty, so the header is not sent, unless the request was authenticated
 * or is the edge's own introspection subrequest.  And $parley_site_key:
 * the client's X-Parley-Site-Key in a "parley_auth public" location.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_parley.h"


/* a secret file larger than this is not a secret file */
#define NGX_HTTP_PARLEY_SECRET_FILE_MAX  4096


static ngx_int_t ngx_http_parley_context_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_parley_site_key_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_parley_vars[] = {

    /* not cacheable: a retry to the next upstream gets a fresh time */

    { ngx_string("parley_context"), NULL, ngx_http_parley_context_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("parley_site_key"), NULL, ngx_http_parley_site_key_variable,
      0, 0, 0 },

      ngx_http_null_variable
};


static ngx_int_t
ngx_http_parley_context_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                       *p;
    size_t                        len;
    ngx_time_t                   *tp;
    ngx_http_parley_ctx_t        *ctx;
    ngx_http_variable_value_t    *request_id;
    ngx_http_parley_context_t     cx;
    ngx_http_parley_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_parley_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_parley_module);

    if (ctx == NULL || pmcf->secret.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    ngx_str_null(&cx.session);

    if (ctx->introspect) {
        ngx_str_set(&cx.tenant, PARLEY_NIL_TENANT);
        ngx_str_set(&cx.kind, PARLEY_PRINCIPAL_EDGE);
        ngx_str_set(&cx.principal, "introspect");

    } else if (ctx->authenticated) {
        cx.tenant.len = NGX_HTTP_PARLEY_UUID_LEN;
        cx.tenant.data = ctx->identity.tenant;
        cx.principal = ctx->principal;
        cx.session = ctx->session;

        switch (ctx->auth) {

        case NGX_HTTP_PARLEY_AUTH_WIDGET:
            ngx_str_set(&cx.kind, PARLEY_PRINCIPAL_WIDGET);
            break;

        case NGX_HTTP_PARLEY_AUTH_ADMIN:
            ngx_str_set(&cx.kind, PARLEY_PRINCIPAL_ADMIN);
            break;

        case NGX_HTTP_PARLEY_AUTH_PUBLIC:
            ngx_str_set(&cx.kind, PARLEY_PRINCIPAL_EDGE);
            break;

        default: /* NGX_HTTP_PARLEY_AUTH_SECRET */
            ngx_str_set(&cx.kind, PARLEY_PRINCIPAL_KEY);
        }

    } else {
        v->not_found = 1;
        return NGX_OK;
    }

    /* the introspection shares the id of the request it serves */

    request_id = ngx_http_get_indexed_variable(r->main,
                                               pmcf->request_id_index);

    if (request_id == NULL || request_id->not_found) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "parley: no $request_id for the context");
        return NGX_ERROR;
    }

    cx.request_id.len = request_id->len;
    cx.request_id.data = request_id->data;

    tp = ngx_timeofday();
    cx.unix_ms = (uint64_t) tp->sec * 1000 + tp->msec;

    p = ngx_pnalloc(r->pool, PARLEY_CONTEXT_MAX_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    len = ngx_http_parley_context_sign(&pmcf->secret, &cx, p);

    if (len == 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "parley: could not sign the context");
        return NGX_ERROR;
    }

    v->len = len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = p;

    return NGX_OK;
}


/* kept by the rewrite phase before client X-Parley-* headers were removed */

static ngx_int_t
ngx_http_parley_site_key_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_parley_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_parley_module);

    if (ctx == NULL || ctx->site_key.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = ctx->site_key.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = ctx->site_key.data;

    return NGX_OK;
}


ngx_int_t
ngx_http_parley_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_parley_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/*
 * The edge secret is read once at configuration time (and again on every
 * reload); it lives in the configuration's memory only and is never
 * logged.  Trailing whitespace, such as a final newline, is not part of it.
 */

char *
ngx_http_parley_edge_secret_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_parley_main_conf_t *pmcf = conf;

    ngx_str_t  *value, secret;

    if (pmcf->secret.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_parley_read_file(cf, &value[1],
                                  NGX_HTTP_PARLEY_SECRET_FILE_MAX, &secret)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    while (secret.len > 0 && isspace(secret.data[secret.len - 1])) {
        secret.len--;
    }

    if (secret.len < PARLEY_EDGE_SECRET_MIN) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edge secret in \"%V\" is shorter than %d bytes",
                           &value[1], PARLEY_EDGE_SECRET_MIN);
        return NGX_CONF_ERROR;
    }

    pmcf->secret = secret;

    return NGX_CONF_OK;
}
