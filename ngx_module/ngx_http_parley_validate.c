
/*
 * Copyright (C) Parley
 *
 * Validation at the edge: the methods of a location ("parley_methods",
 * 405 with Allow otherwise), checked in the preaccess phase before any
 * credential is looked at, and the JSON media type of request bodies
 * ("parley_json_body", 415 otherwise; "parley_multipart_body" also
 * lets multipart/form-data with a boundary through, for uploads),
 * checked once the credential was (a client without one learns nothing
 * of the route but 401).  Body
 * sizes are nginx's own client_max_body_size (413).  Refusals are JSON;
 * none of these requests reaches the engine.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_parley.h"


static ngx_uint_t ngx_http_parley_is_json(ngx_str_t *type);
static ngx_uint_t ngx_http_parley_is_form_data(ngx_str_t *type);
static ngx_uint_t ngx_http_parley_has_type(ngx_str_t *type, ngx_str_t *name,
    u_char **rest);


static ngx_conf_bitmask_t  ngx_http_parley_method_names[] = {
    { ngx_string("GET"), NGX_HTTP_GET },
    { ngx_string("HEAD"), NGX_HTTP_HEAD },
    { ngx_string("POST"), NGX_HTTP_POST },
    { ngx_string("PUT"), NGX_HTTP_PUT },
    { ngx_string("PATCH"), NGX_HTTP_PATCH },
    { ngx_string("DELETE"), NGX_HTTP_DELETE },
    { ngx_string("OPTIONS"), NGX_HTTP_OPTIONS },
    { ngx_null_string, 0 }
};


static ngx_str_t  ngx_http_parley_method_not_allowed = ngx_string(
    NGX_HTTP_PARLEY_ERROR("Method not allowed.",
                          "invalid_request_error", "method_not_allowed"));

static ngx_str_t  ngx_http_parley_unsupported_media_type = ngx_string(
    NGX_HTTP_PARLEY_ERROR("The request body must be JSON, sent with "
                          "'Content-Type: application/json'.",
                          "invalid_request_error",
                          "unsupported_media_type"));

static ngx_str_t  ngx_http_parley_unsupported_upload_type = ngx_string(
    NGX_HTTP_PARLEY_ERROR("The request body must be JSON or "
                          "multipart/form-data with a boundary.",
                          "invalid_request_error",
                          "unsupported_media_type"));

static ngx_str_t  ngx_http_parley_allow = ngx_string("Allow");


ngx_int_t
ngx_http_parley_validate_handler(ngx_http_request_t *r)
{
    ngx_http_parley_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_parley_module);

    /* a CORS preflight is answered in the access phase */

    if (plcf->methods
        && !(r->method & plcf->methods)
        && !(plcf->cors && ngx_http_parley_is_preflight(r)))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "parley: method \"%V\" not allowed", &r->method_name);

        ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_METHOD, 1);

        if (ngx_http_parley_add_header(r, &ngx_http_parley_allow,
                                       &plcf->allow)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_parley_send_error(r, NGX_HTTP_NOT_ALLOWED,
                                          &ngx_http_parley_method_not_allowed);
    }

    return NGX_DECLINED;
}


/* NGX_OK for a JSON body or none, NGX_DONE once refused */

ngx_int_t
ngx_http_parley_validate_body(ngx_http_request_t *r)
{
    ngx_table_elt_t             *type;
    ngx_http_parley_loc_conf_t  *plcf;

    if (r->headers_in.content_length_n <= 0 && !r->headers_in.chunked) {
        return NGX_OK;
    }

    type = r->headers_in.content_type;

    if (type && ngx_http_parley_is_json(&type->value)) {
        return NGX_OK;
    }

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_parley_module);

    if (plcf->multipart_body
        && type && ngx_http_parley_is_form_data(&type->value))
    {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "parley: request body is not JSON");

    ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_MEDIA_TYPE, 1);

    return ngx_http_parley_send_error(r, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                      plcf->multipart_body
                                      ? &ngx_http_parley_unsupported_upload_type
                                      : &ngx_http_parley_unsupported_media_type);
}


/* "application/json", in any case, with or without parameters */

static ngx_uint_t
ngx_http_parley_is_json(ngx_str_t *type)
{
    u_char     *rest;
    ngx_str_t   json = ngx_string("application/json");

    return ngx_http_parley_has_type(type, &json, &rest);
}


/*
 * "multipart/form-data" with a "boundary" parameter: without one the body
 * cannot be split into its parts
 */

static ngx_uint_t
ngx_http_parley_is_form_data(ngx_str_t *type)
{
    u_char     *rest, *last;
    ngx_str_t   form = ngx_string("multipart/form-data");

    if (!ngx_http_parley_has_type(type, &form, &rest)) {
        return 0;
    }

    last = type->data + type->len;

    return ngx_strlcasestrn(rest, last, (u_char *) "boundary=",
                            sizeof("boundary=") - 1 - 1)
           != NULL;
}


/* the media type `name`, in any case; *rest points at what follows it */

static ngx_uint_t
ngx_http_parley_has_type(ngx_str_t *type, ngx_str_t *name, u_char **rest)
{
    u_char  *p, *last;

    p = type->data;
    last = p + type->len;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if ((size_t) (last - p) < name->len
        || ngx_strncasecmp(p, name->data, name->len) != 0)
    {
        return 0;
    }

    p += name->len;
    *rest = p;

    return p == last || *p == ';' || *p == ' ' || *p == '\t';
}


/*
 * parley_methods <method> ...; exactly those: unlike limit_except, GET
 * does not allow HEAD, which the engine does not serve.  The list,
 * joined, is the "Allow" header of a 405 and the
 * Access-Control-Allow-Methods of a preflight.
 */

char *
ngx_http_parley_methods(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_parley_loc_conf_t *plcf = conf;

    u_char              *p;
    size_t               len;
    ngx_str_t           *value;
    ngx_uint_t           i, m, methods;
    ngx_conf_bitmask_t  *name;

    if (plcf->methods) {
        return "is duplicate";
    }

    value = cf->args->elts;
    methods = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        for (name = ngx_http_parley_method_names; name->name.len; name++) {
            if (value[i].len == name->name.len
                && ngx_strcmp(value[i].data, name->name.data) == 0)
            {
                break;
            }
        }

        if (name->name.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid method \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        methods |= name->mask;
    }

    len = 0;

    for (m = 0; ngx_http_parley_method_names[m].name.len; m++) {
        if (methods & ngx_http_parley_method_names[m].mask) {
            len += ngx_http_parley_method_names[m].name.len + 2;
        }
    }

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    plcf->allow.data = p;

    for (m = 0; ngx_http_parley_method_names[m].name.len; m++) {
        if (methods & ngx_http_parley_method_names[m].mask) {
            if (p != plcf->allow.data) {
                *p++ = ',';
                *p++ = ' ';
            }

            p = ngx_cpymem(p, ngx_http_parley_method_names[m].name.data,
                           ngx_http_parley_method_names[m].name.len);
        }
    }

    plcf->allow.len = p - plcf->allow.data;
    plcf->methods = methods;

    return NGX_CONF_OK;
}
