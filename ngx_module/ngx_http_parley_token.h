
/*
 * Copyright (C) Parley
 */


#ifndef _NGX_HTTP_PARLEY_TOKEN_H_INCLUDED_
#define _NGX_HTTP_PARLEY_TOKEN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <parley_context.h>
#include <parley_widget_token.h>


#define NGX_HTTP_PARLEY_UUID_LEN          36

/*
 * a plan value that introspection or a widget credential's "pln" does not
 * give: the location's default
 */
#define NGX_HTTP_PARLEY_UNSET             -1

/* ngx_http_parley_jwt_verify() results */
#define NGX_HTTP_PARLEY_JWT_OK            0
#define NGX_HTTP_PARLEY_JWT_MALFORMED     1
#define NGX_HTTP_PARLEY_JWT_ALGORITHM     2
#define NGX_HTTP_PARLEY_JWT_UNKNOWN_KEY   3
#define NGX_HTTP_PARLEY_JWT_SIGNATURE     4
#define NGX_HTTP_PARLEY_JWT_CLAIMS        5
#define NGX_HTTP_PARLEY_JWT_LIFETIME      6
#define NGX_HTTP_PARLEY_JWT_EXPIRED       7
#define NGX_HTTP_PARLEY_JWT_NOT_YET_VALID 8


/* one line of the widget key ring */
typedef struct {
    ngx_str_t                     kid;
    ngx_str_t                     secret;
} ngx_http_parley_widget_key_t;


/*
 * What a verified widget token or stream id says; copies, the token may
 * go away.  stream_len is 0 but for a stream id.  The plan's values are
 * "pln"'s, each NGX_HTTP_PARLEY_UNSET when it is not there.
 */
typedef struct {
    u_char                        tenant[NGX_HTTP_PARLEY_UUID_LEN];
    u_char                        session[PARLEY_CONTEXT_FIELD_MAX];
    size_t                        session_len;
    u_char                        agent[PARLEY_CONTEXT_FIELD_MAX];
    size_t                        agent_len;
    u_char                        origin[PARLEY_ORIGIN_MAX];
    size_t                        origin_len;
    u_char                        stream[PARLEY_CONTEXT_FIELD_MAX];
    size_t                        stream_len;
    ngx_int_t                     rpm;
    ngx_int_t                     burst;
    ngx_int_t                     max_streams;
    time_t                        expires;
} ngx_http_parley_widget_claims_t;


/* the fields of an X-Parley-Context */
typedef struct {
    ngx_str_t                     tenant;
    ngx_str_t                     kind;
    ngx_str_t                     principal;
    ngx_str_t                     session;       /* empty: no session */
    ngx_str_t                     request_id;
    uint64_t                      unix_ms;
} ngx_http_parley_context_t;


ngx_int_t ngx_http_parley_jwt_verify(ngx_str_t *token, const char *audience,
    ngx_http_parley_widget_key_t *keys, ngx_uint_t nkeys, time_t now,
    time_t skew, ngx_http_parley_widget_claims_t *claims);
const char *ngx_http_parley_jwt_error(ngx_int_t rc);

size_t ngx_http_parley_context_sign(ngx_str_t *secret,
    ngx_http_parley_context_t *cx, u_char *buf);

ngx_uint_t ngx_http_parley_is_uuid(u_char *p, size_t len);
ngx_uint_t ngx_http_parley_is_token(u_char *p, size_t len);
ngx_uint_t ngx_http_parley_is_base64url(u_char *p, size_t len);


#endif /* _NGX_HTTP_PARLEY_TOKEN_H_INCLUDED_ */
