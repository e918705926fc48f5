
/*
 * Copyright (C) Parley
 *
 * Widget tokens, "Authorization: Bearer <JWT>", verified at the edge with
 * no engine call: the signature against a key ring read from a file, the
 * claims against the clock.  Rotation is adding a key to the file and
 * reloading nginx; tokens of every key in the file stay valid until they
 * expire.  Tokens and secrets never reach the logs.
 *
 * A widget stream id, the last segment of /widget/v1/streams/<id>, is
 * verified the same way for the stream's audience: a browser's
 * EventSource sends no Authorization header, so the URI carries the
 * credential.  It is a credential in the request line: the request line
 * nginx logs names no stream id (see ..._stream_redact()).
 *
 * The bootstrap routes that give a browser its token are public: the
 * edge forwards the client's publishable key, the one X-Parley-* header
 * it lets through, and the engine checks it against the Origin.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_parley.h"


/* a key ring larger than this is not a key ring */
#define NGX_HTTP_PARLEY_KEY_RING_MAX  65536


static ngx_int_t ngx_http_parley_widget_identity(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx, ngx_http_parley_widget_claims_t *claims);
static ngx_uint_t ngx_http_parley_stream_id(ngx_http_request_t *r,
    ngx_str_t *id);
static ngx_int_t ngx_http_parley_widget_key_line(ngx_conf_t *cf,
    ngx_str_t *file, ngx_uint_t line, u_char *p, u_char *last,
    ngx_array_t *keys);
static u_char *ngx_http_parley_skip_space(u_char *p, u_char *last);
static u_char *ngx_http_parley_skip_field(u_char *p, u_char *last);


static ngx_str_t  ngx_http_parley_missing_token = ngx_string(
    NGX_HTTP_PARLEY_ERROR("No widget token provided: send it as "
                          "'Authorization: Bearer <token>'.",
                          "invalid_request_error", "invalid_widget_token"));

static ngx_str_t  ngx_http_parley_invalid_token = ngx_string(
    NGX_HTTP_PARLEY_ERROR("Invalid or expired widget token.",
                          "invalid_request_error", "invalid_widget_token"));

static ngx_str_t  ngx_http_parley_invalid_stream = ngx_string(
    NGX_HTTP_PARLEY_ERROR("Invalid or expired widget stream.",
                          "invalid_request_error", "invalid_widget_stream"));

/* what the logged request line says instead of a stream id */
static ngx_str_t  ngx_http_parley_stream_redacted =
    ngx_string("[stream id]");

static ngx_str_t  ngx_http_parley_site_key_header =
    ngx_string("X-Parley-Site-Key");


/* Returns NGX_OK with the identity in ctx, or NGX_DONE once refused. */

ngx_int_t
ngx_http_parley_widget_authenticate(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx)
{
    ngx_int_t                         rc;
    ngx_str_t                         token;
    ngx_http_parley_main_conf_t      *pmcf;
    ngx_http_parley_widget_claims_t   claims;

    if (ngx_http_parley_bearer(r, &token) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "parley: no widget token was provided");
        ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_NO_CREDENTIAL, 1);
        return ngx_http_parley_refuse_credential(r,
                                              &ngx_http_parley_missing_token);
    }

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_parley_module);

    rc = ngx_http_parley_jwt_verify(&token, PARLEY_WIDGET_TOKEN_AUDIENCE,
                                    pmcf->widget_keys->elts,
                                    pmcf->widget_keys->nelts, ngx_time(),
                                    pmcf->widget_skew, &claims);

    if (rc != NGX_HTTP_PARLEY_JWT_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "parley: invalid widget token: %s",
                      ngx_http_parley_jwt_error(rc));
        ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_INVALID
                                 + NGX_HTTP_PARLEY_AUTH_WIDGET, 1);
        return ngx_http_parley_refuse_credential(r,
                                              &ngx_http_parley_invalid_token);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "parley widget token: tenant %*s",
                   (size_t) NGX_HTTP_PARLEY_UUID_LEN, claims.tenant);

    return ngx_http_parley_widget_identity(r, ctx, &claims);
}


/*
 * "parley_auth widget_stream": the stream id in the URI, verified for the
 * stream's audience, gives the request the identity a widget token of
 * the same claims would.  Returns NGX_OK, or NGX_DONE once refused.
 */

ngx_int_t
ngx_http_parley_widget_stream_authenticate(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx)
{
    ngx_int_t                         rc;
    ngx_str_t                         id;
    ngx_http_parley_main_conf_t      *pmcf;
    ngx_http_parley_widget_claims_t   claims;

    if (!ngx_http_parley_stream_id(r, &id)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "parley: no widget stream id in the URI");
        ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_NO_CREDENTIAL, 1);
        return ngx_http_parley_refuse_credential(r,
                                             &ngx_http_parley_invalid_stream);
    }

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_parley_module);

    rc = ngx_http_parley_jwt_verify(&id, PARLEY_WIDGET_STREAM_AUDIENCE,
                                    pmcf->widget_keys->elts,
                                    pmcf->widget_keys->nelts, ngx_time(),
                                    pmcf->widget_skew, &claims);

    if (rc != NGX_HTTP_PARLEY_JWT_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "parley: invalid widget stream: %s",
                      ngx_http_parley_jwt_error(rc));
        ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_INVALID
                                 + NGX_HTTP_PARLEY_AUTH_WIDGET, 1);
        return ngx_http_parley_refuse_credential(r,
                                             &ngx_http_parley_invalid_stream);
    }

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "parley widget stream: tenant %*s stream %*s",
                   (size_t) NGX_HTTP_PARLEY_UUID_LEN, claims.tenant,
                   claims.stream_len, claims.stream);

    return ngx_http_parley_widget_identity(r, ctx, &claims);
}


/*
 * The stream id: the URI's last segment, in the URI nginx normalized
 * (percent-decoded, dot segments resolved, slashes merged) and matched
 * the location on.  In a prefix location, it comes right after the
 * location's path: "/widget/v1/streams/<id>", never
 * "/widget/v1/streams/<more>/<id>".  0 when there is none.
 */

static ngx_uint_t
ngx_http_parley_stream_id(ngx_http_request_t *r, ngx_str_t *id)
{
    u_char                    *p, *last;
    ngx_http_core_loc_conf_t  *clcf;

    p = r->uri.data;
    last = p + r->uri.len;

    while (last > p && last[-1] != '/') {
        last--;
    }

    if (last == p) {
        return 0;
    }

    /* last: just after the URI's last slash */

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (!clcf->named && !clcf->exact_match
#if (NGX_PCRE)
        && clcf->regex == NULL
#endif
        && (size_t) (last - 1 - p) > clcf->name.len)
    {
        return 0;
    }

    id->data = last;
    id->len = r->uri.data + r->uri.len - last;

    return id->len != 0;
}


/*
 * The request line, which nginx writes into every error log line of the
 * request and into $request (the access log's), with the stream id
 * replaced: "GET /widget/v1/streams/[stream id] HTTP/1.1".  Called in the
 * rewrite phase of a "widget_stream" location, before anything of the
 * module or of nginx logs the request.  $request_uri and $uri still hold
 * the id; so does the "upstream:" of nginx's own errors of proxying.
 */

ngx_int_t
ngx_http_parley_stream_redact(ngx_http_request_t *r)
{
    u_char  *p, *slash;
    size_t   len;

    slash = r->uri.data + r->uri.len;

    while (slash > r->uri.data && slash[-1] != '/') {
        slash--;
    }

    len = r->method_name.len + 1 + (slash - r->uri.data)
          + ngx_http_parley_stream_redacted.len;

    if (r->http_protocol.len) {
        len += 1 + r->http_protocol.len;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    r->request_line.data = p;

    p = ngx_cpymem(p, r->method_name.data, r->method_name.len);
    *p++ = ' ';
    p = ngx_cpymem(p, r->uri.data, slash - r->uri.data);
    p = ngx_cpymem(p, ngx_http_parley_stream_redacted.data,
                   ngx_http_parley_stream_redacted.len);

    if (r->http_protocol.len) {
        *p++ = ' ';
        p = ngx_cpymem(p, r->http_protocol.data, r->http_protocol.len);
    }

    r->request_line.len = p - r->request_line.data;

    return NGX_OK;
}


/* the identity of a verified token or stream id, copied into ctx */

static ngx_int_t
ngx_http_parley_widget_identity(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx, ngx_http_parley_widget_claims_t *claims)
{
    ctx->principal.data = ngx_pnalloc(r->pool,
                                      claims->agent_len + claims->session_len
                                      + claims->origin_len);
    if (ctx->principal.data == NULL) {
        return NGX_ERROR;
    }

    ctx->principal.len = claims->agent_len;
    ngx_memcpy(ctx->principal.data, claims->agent, claims->agent_len);

    ctx->session.len = claims->session_len;
    ctx->session.data = ctx->principal.data + claims->agent_len;
    ngx_memcpy(ctx->session.data, claims->session, claims->session_len);

    ctx->token_origin.len = claims->origin_len;
    ctx->token_origin.data = ctx->session.data + claims->session_len;
    ngx_memcpy(ctx->token_origin.data, claims->origin, claims->origin_len);

    /*
     * the tenant's plan as the engine signed it, for the tenant's limits
     * and its streams, as introspection's for a secret key
     */

    ngx_memcpy(ctx->identity.tenant, claims->tenant,
               NGX_HTTP_PARLEY_UUID_LEN);
    ctx->identity.rpm = claims->rpm;
    ctx->identity.burst = claims->burst;
    ctx->identity.max_streams = claims->max_streams;

    ctx->auth = NGX_HTTP_PARLEY_AUTH_WIDGET;
    ctx->authenticated = 1;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "parley widget session %V", &ctx->session);

    return NGX_OK;
}


/*
 * "parley_auth public": anyone, as the edge's "public" principal of no
 * tenant; the per-address limits and the engine's checks of the site key
 * and the Origin are what protects these routes.
 */

ngx_int_t
ngx_http_parley_public_authenticate(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx)
{
    ngx_memcpy(ctx->identity.tenant, PARLEY_NIL_TENANT,
               NGX_HTTP_PARLEY_UUID_LEN);
    ctx->identity.rpm = NGX_HTTP_PARLEY_UNSET;
    ctx->identity.burst = NGX_HTTP_PARLEY_UNSET;
    ctx->identity.max_streams = NGX_HTTP_PARLEY_UNSET;

    ngx_str_set(&ctx->principal, "public");

    ctx->auth = NGX_HTTP_PARLEY_AUTH_PUBLIC;
    ctx->authenticated = 1;

    return NGX_OK;
}


/*
 * Keeps the client's X-Parley-Site-Key for $parley_site_key before every
 * client X-Parley-* header is removed; called in the rewrite phase of a
 * public location.
 */

ngx_int_t
ngx_http_parley_site_key(ngx_http_request_t *r)
{
    ngx_table_elt_t        *h;
    ngx_http_parley_ctx_t  *ctx;

    h = ngx_http_parley_find_header(&r->headers_in.headers,
                                    &ngx_http_parley_site_key_header);
    if (h == NULL) {
        return NGX_OK;
    }

    ctx = ngx_http_parley_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->site_key = h->value;

    return NGX_OK;
}


/*
 * parley_widget_keys <file>: one "<kid> <secret>" a line, "#" comments
 * and blank lines ignored.  The engine signs with the last key; the edge
 * accepts all.  Read when nginx starts or reloads.
 */

char *
ngx_http_parley_widget_keys(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_parley_main_conf_t *pmcf = conf;

    u_char      *p, *eol, *last;
    ngx_str_t   *value, content;
    ngx_uint_t   line;

    if (pmcf->widget_keys) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_parley_read_file(cf, &value[1], NGX_HTTP_PARLEY_KEY_RING_MAX,
                                  &content)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    pmcf->widget_keys = ngx_array_create(cf->pool, 4,
                                         sizeof(ngx_http_parley_widget_key_t));
    if (pmcf->widget_keys == NULL) {
        return NGX_CONF_ERROR;
    }

    p = content.data;
    last = p + content.len;

    for (line = 1; p < last; line++) {

        eol = ngx_strlchr(p, last, '\n');
        if (eol == NULL) {
            eol = last;
        }

        if (ngx_http_parley_widget_key_line(cf, &value[1], line, p, eol,
                                            pmcf->widget_keys)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        p = eol + 1;
    }

    if (pmcf->widget_keys->nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "widget key ring \"%V\" has no key", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_parley_widget_key_line(ngx_conf_t *cf, ngx_str_t *file,
    ngx_uint_t line, u_char *p, u_char *last, ngx_array_t *keys)
{
    u_char                        *end;
    ngx_str_t                      kid, secret;
    ngx_uint_t                     i;
    ngx_http_parley_widget_key_t  *key;

    p = ngx_http_parley_skip_space(p, last);

    if (p == last || *p == '#') {
        return NGX_OK;
    }

    end = ngx_http_parley_skip_field(p, last);
    kid.data = p;
    kid.len = end - p;

    p = ngx_http_parley_skip_space(end, last);

    end = ngx_http_parley_skip_field(p, last);
    secret.data = p;
    secret.len = end - p;

    if (ngx_http_parley_skip_space(end, last) != last) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "widget key ring \"%V\", line %ui: expected "
                           "\"<kid> <secret>\"", file, line);
        return NGX_ERROR;
    }

    if (!ngx_http_parley_is_token(kid.data, kid.len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "widget key ring \"%V\", line %ui: a key id is "
                           "1 to %d of [A-Za-z0-9_-]", file, line,
                           PARLEY_CONTEXT_FIELD_MAX);
        return NGX_ERROR;
    }

    if (secret.len < PARLEY_WIDGET_SECRET_MIN) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "widget key ring \"%V\", line %ui: the secret of "
                           "\"%V\" is shorter than %d bytes", file, line,
                           &kid, PARLEY_WIDGET_SECRET_MIN);
        return NGX_ERROR;
    }

    key = keys->elts;

    for (i = 0; i < keys->nelts; i++) {
        if (key[i].kid.len == kid.len
            && ngx_memcmp(key[i].kid.data, kid.data, kid.len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "widget key ring \"%V\", line %ui: duplicate "
                               "key id \"%V\"", file, line, &kid);
            return NGX_ERROR;
        }
    }

    key = ngx_array_push(keys);
    if (key == NULL) {
        return NGX_ERROR;
    }

    key->kid = kid;
    key->secret = secret;

    return NGX_OK;
}


static u_char *
ngx_http_parley_skip_space(u_char *p, u_char *last)
{
    while (p < last && (*p == ' ' || *p == '\t' || *p == '\r')) {
        p++;
    }

    return p;
}


static u_char *
ngx_http_parley_skip_field(u_char *p, u_char *last)
{
    while (p < last && *p != ' ' && *p != '\t' && *p != '\r') {
        p++;
    }

    return p;
}
