
/*
 * Copyright (C) Parley
 *
 * The $parley_context variable: the signed X-Parley-Context of SPEC 3.5,
 * in the format of shared/parley_context.h, for proxy_set_header.  It is
 * empty, so the header is not sent, unless the request was authenticated
 * or is the edge's own introspection subrequest.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ngx_http_parley.h"


/* a secret file larger than this is not a secret file */
#define NGX_HTTP_PARLEY_SECRET_FILE_MAX  4096


static ngx_int_t ngx_http_parley_context_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_parley_vars[] = {

    /* not cacheable: a retry to the next upstream gets a fresh time */

    { ngx_string("parley_context"), NULL, ngx_http_parley_context_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_int_t
ngx_http_parley_context_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                       *p, *last;
    uint64_t                      ms;
    ngx_str_t                     tenant, kind, principal, mac, sig;
    ngx_time_t                   *tp;
    unsigned int                  mac_len;
    ngx_http_parley_ctx_t        *ctx;
    ngx_http_variable_value_t    *request_id;
    ngx_http_parley_main_conf_t  *pmcf;
    u_char                        md[EVP_MAX_MD_SIZE];

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_parley_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_parley_module);

    if (ctx == NULL || pmcf->secret.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    if (ctx->introspect) {
        ngx_str_set(&tenant, PARLEY_NIL_TENANT);
        ngx_str_set(&kind, PARLEY_PRINCIPAL_EDGE);
        ngx_str_set(&principal, "introspect");

    } else if (ctx->authenticated) {
        tenant.len = NGX_HTTP_PARLEY_UUID_LEN;
        tenant.data = ctx->identity.tenant;
        ngx_str_set(&kind, PARLEY_PRINCIPAL_KEY);
        principal.len = NGX_HTTP_PARLEY_UUID_LEN;
        principal.data = ctx->identity.key_id;

    } else {
        v->not_found = 1;
        return NGX_OK;
    }

    /* the introspection shares the id of the request it serves */

    request_id = ngx_http_get_indexed_variable(r->main,
                                               pmcf->request_id_index);

    if (request_id == NULL || request_id->not_found
        || request_id->len == 0
        || request_id->len > PARLEY_CONTEXT_FIELD_MAX)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "parley: no usable $request_id for the context");
        return NGX_ERROR;
    }

    tp = ngx_timeofday();
    ms = (uint64_t) tp->sec * 1000 + tp->msec;

    p = ngx_pnalloc(r->pool, PARLEY_CONTEXT_MAX_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    last = ngx_snprintf(p, PARLEY_CONTEXT_MAX_LEN - 1 - PARLEY_CONTEXT_SIG_LEN,
                        PARLEY_CONTEXT_VERSION ".%V.%V:%V."
                        PARLEY_NO_SESSION ".%v.%uL",
                        &tenant, &kind, &principal, request_id, ms);

    if (HMAC(EVP_sha256(), pmcf->secret.data, (int) pmcf->secret.len,
             p, last - p, md, &mac_len)
        == NULL)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "parley: HMAC(SHA-256) failed");
        return NGX_ERROR;
    }

    *last++ = '.';

    mac.len = mac_len;
    mac.data = md;
    sig.data = last;

    ngx_encode_base64url(&sig, &mac);

    v->len = last + sig.len - p;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = p;

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

    u_char           *buf;
    size_t            size;
    ssize_t           n;
    ngx_str_t        *value;
    ngx_file_t        file;
    ngx_file_info_t   fi;

    if (pmcf->secret.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ngx_memzero(&file, sizeof(ngx_file_t));

    file.name = value[1];
    file.log = cf->log;

    if (ngx_conf_full_name(cf->cycle, &file.name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    file.fd = ngx_open_file(file.name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%s\" failed", file.name.data);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(file.fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%s\" failed", file.name.data);
        goto failed;
    }

    size = (size_t) ngx_file_size(&fi);

    if (size > NGX_HTTP_PARLEY_SECRET_FILE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edge secret file \"%s\" is too large",
                           file.name.data);
        goto failed;
    }

    if (ngx_file_access(&fi) & 0077) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "edge secret file \"%s\" is accessible by "
                           "other users", file.name.data);
    }

    buf = ngx_pnalloc(cf->pool, size);
    if (buf == NULL) {
        goto failed;
    }

    n = ngx_read_file(&file, buf, size, 0);

    if (n == NGX_ERROR || (size_t) n != size) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "could not read edge secret file \"%s\"",
                           file.name.data);
        goto failed;
    }

    if (ngx_close_file(file.fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%s\" failed", file.name.data);
    }

    while (size > 0
           && (buf[size - 1] == ' ' || buf[size - 1] == '\t'
               || buf[size - 1] == '\r' || buf[size - 1] == '\n'
               || buf[size - 1] == '\v' || buf[size - 1] == '\f'))
    {
        size--;
    }

    if (size < PARLEY_EDGE_SECRET_MIN) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edge secret in \"%s\" is shorter than %d bytes",
                           file.name.data, PARLEY_EDGE_SECRET_MIN);
        return NGX_CONF_ERROR;
    }

    pmcf->secret.len = size;
    pmcf->secret.data = buf;

    return NGX_CONF_OK;

failed:

    if (ngx_close_file(file.fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%s\" failed", file.name.data);
    }

    return NGX_CONF_ERROR;
}
