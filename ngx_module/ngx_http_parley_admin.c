
/*
 * Copyright (C) Parley
 *
 * The admin token, "Authorization: Bearer <token>", for /admin/v1/.  Only
 * its SHA-256 is kept; a request's token is hashed the same way and the
 * two digests, always of equal length, are compared in constant time.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ngx_http_parley.h"


#define NGX_HTTP_PARLEY_ADMIN_TOKEN_MIN   32
#define NGX_HTTP_PARLEY_ADMIN_FILE_MAX    4096


static ngx_str_t  ngx_http_parley_missing_admin = ngx_string(
    NGX_HTTP_PARLEY_ERROR("No admin token provided: send it as "
                          "'Authorization: Bearer <token>'.",
                          "invalid_request_error", "invalid_admin_token"));

static ngx_str_t  ngx_http_parley_invalid_admin = ngx_string(
    NGX_HTTP_PARLEY_ERROR("Invalid admin token.",
                          "invalid_request_error", "invalid_admin_token"));


/* Returns NGX_OK with the admin identity in ctx, NGX_DONE, or NGX_ERROR. */

ngx_int_t
ngx_http_parley_admin_authenticate(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx)
{
    ngx_str_t                     token;
    ngx_http_parley_main_conf_t  *pmcf;
    u_char                        md[NGX_HTTP_PARLEY_HASH_LEN];

    if (ngx_http_parley_bearer(r, &token) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "parley: no admin token was provided");
        ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_NO_CREDENTIAL, 1);
        return ngx_http_parley_refuse_credential(r,
                                              &ngx_http_parley_missing_admin);
    }

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_parley_module);

    if (ngx_http_parley_sha256(pmcf, token.data, token.len, md) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "parley: SHA-256 failed");
        return NGX_ERROR;
    }

    if (CRYPTO_memcmp(md, pmcf->admin_hash.data, NGX_HTTP_PARLEY_HASH_LEN)
        != 0)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "parley: invalid admin token");
        ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_INVALID
                                 + NGX_HTTP_PARLEY_AUTH_ADMIN, 1);
        return ngx_http_parley_refuse_credential(r,
                                              &ngx_http_parley_invalid_admin);
    }

    /* the admin is nobody's tenant */

    ngx_memcpy(ctx->identity.tenant, PARLEY_NIL_TENANT,
               NGX_HTTP_PARLEY_UUID_LEN);
    ctx->identity.rpm = NGX_HTTP_PARLEY_UNSET;
    ctx->identity.burst = NGX_HTTP_PARLEY_UNSET;
    ctx->identity.max_streams = NGX_HTTP_PARLEY_UNSET;

    ngx_str_set(&ctx->principal, "token");

    ctx->auth = NGX_HTTP_PARLEY_AUTH_ADMIN;
    ctx->authenticated = 1;

    return NGX_OK;
}


/*
 * parley_admin_token_file <file>: the token is the file's content without
 * surrounding whitespace, at least 32 characters; there is no default.
 * The raw token is wiped from memory once hashed.
 */

char *
ngx_http_parley_admin_token_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_parley_main_conf_t *pmcf = conf;

    u_char     *p, *last;
    ngx_str_t  *value, content;

    if (pmcf->admin_hash.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_parley_read_file(cf, &value[1],
                                  NGX_HTTP_PARLEY_ADMIN_FILE_MAX, &content)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    p = content.data;
    last = p + content.len;

    while (p < last && isspace(*p)) {
        p++;
    }

    while (last > p && isspace(last[-1])) {
        last--;
    }

    if (last - p < NGX_HTTP_PARLEY_ADMIN_TOKEN_MIN) {
        ngx_explicit_memzero(content.data, content.len);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "admin token in \"%V\" is shorter than %d "
                           "characters", &value[1],
                           NGX_HTTP_PARLEY_ADMIN_TOKEN_MIN);
        return NGX_CONF_ERROR;
    }

    pmcf->admin_hash.data = ngx_pnalloc(cf->pool, NGX_HTTP_PARLEY_HASH_LEN);
    if (pmcf->admin_hash.data == NULL) {
        return NGX_CONF_ERROR;
    }

    if (EVP_Digest(p, last - p, pmcf->admin_hash.data, NULL, EVP_sha256(),
                   NULL)
        != 1)
    {
        ngx_explicit_memzero(content.data, content.len);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "EVP_Digest(SHA-256) failed");
        return NGX_CONF_ERROR;
    }

    pmcf->admin_hash.len = NGX_HTTP_PARLEY_HASH_LEN;

    ngx_explicit_memzero(content.data, content.len);

    return NGX_CONF_OK;
}
