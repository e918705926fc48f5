
/*
 * Copyright (C) Parley
 *
 * libFuzzer harness of the widget token verifier,
 * ngx_http_parley_jwt_verify(), for both of its audiences (a widget
 * token's and a widget stream id's).  The first byte of an input picks
 * how the rest is used:
 *
 *   'j'  the rest is a token, as a client would send it;
 *   's'  the rest is "<header JSON>\n<claims JSON>", which the harness
 *        encodes and signs with a key of the ring, so that the JSON
 *        parsing and the claim checks behind the signature are reached.
 *
 * Whatever the input, the verifier must not crash, leak or read out of
 * bounds, and a token it accepts must give claims of the right form.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ngx_http_parley_token.h"


#define FUZZ_NOW    1700000100
#define FUZZ_SKEW   30


static ngx_http_parley_widget_key_t  fuzz_keys[] = {
    { ngx_string("k0"), ngx_string("an-older-secret-of-at-least-32-bytes!") },
    { ngx_string("k1"), ngx_string("the-current-secret-of-at-least-32-bytes") }
};


static size_t
fuzz_base64url(u_char *dst, const u_char *src, size_t len)
{
    static const u_char  alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    u_char    *d;
    size_t     i;
    uint32_t   v;

    d = dst;

    for (i = 0; i + 2 < len; i += 3) {
        v = (src[i] << 16) | (src[i + 1] << 8) | src[i + 2];
        *d++ = alphabet[(v >> 18) & 63];
        *d++ = alphabet[(v >> 12) & 63];
        *d++ = alphabet[(v >> 6) & 63];
        *d++ = alphabet[v & 63];
    }

    if (len - i == 1) {
        v = src[i] << 16;
        *d++ = alphabet[(v >> 18) & 63];
        *d++ = alphabet[(v >> 12) & 63];

    } else if (len - i == 2) {
        v = (src[i] << 16) | (src[i + 1] << 8);
        *d++ = alphabet[(v >> 18) & 63];
        *d++ = alphabet[(v >> 12) & 63];
        *d++ = alphabet[(v >> 6) & 63];
    }

    return d - dst;
}


/* a plan value of accepted claims: none, or within introspection's bounds */

static ngx_uint_t
fuzz_plan_value(ngx_int_t value, ngx_int_t min)
{
    return value == NGX_HTTP_PARLEY_UNSET
           || (value >= min && value <= PARLEY_WIDGET_PLAN_MAX);
}


static void
fuzz_check_claims(ngx_http_parley_widget_claims_t *claims, ngx_uint_t stream)
{
    if (!fuzz_plan_value(claims->rpm, 1)
        || !fuzz_plan_value(claims->burst, 0)
        || !fuzz_plan_value(claims->max_streams, 0)
        || !ngx_http_parley_is_uuid(claims->tenant, NGX_HTTP_PARLEY_UUID_LEN)
        || !ngx_http_parley_is_token(claims->session, claims->session_len)
        || !ngx_http_parley_is_token(claims->agent, claims->agent_len)
        || claims->expires + FUZZ_SKEW <= FUZZ_NOW
        || (stream
            ? !ngx_http_parley_is_token(claims->stream, claims->stream_len)
            : claims->stream_len != 0))
    {
        abort();
    }
}


/* the token as a widget token, then as a stream id */

static void
fuzz_verify(ngx_str_t *t)
{
    ngx_int_t                         rc;
    ngx_http_parley_widget_claims_t   claims;

    rc = ngx_http_parley_jwt_verify(t, PARLEY_WIDGET_TOKEN_AUDIENCE,
                                    fuzz_keys, 2, FUZZ_NOW, FUZZ_SKEW,
                                    &claims);
    if (rc == NGX_HTTP_PARLEY_JWT_OK) {
        fuzz_check_claims(&claims, 0);
    }

    rc = ngx_http_parley_jwt_verify(t, PARLEY_WIDGET_STREAM_AUDIENCE,
                                    fuzz_keys, 2, FUZZ_NOW, FUZZ_SKEW,
                                    &claims);
    if (rc == NGX_HTTP_PARLEY_JWT_OK) {
        fuzz_check_claims(&claims, 1);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char        *p, *nl, *token;
    size_t         n;
    ngx_str_t      t;
    unsigned int   mac_len;
    u_char         mac[EVP_MAX_MD_SIZE];

    if (size < 1) {
        return 0;
    }

    if (data[0] == 'j') {
        t.data = (u_char *) data + 1;
        t.len = size - 1;

        fuzz_verify(&t);

        return 0;
    }

    if (data[0] != 's' || size > PARLEY_WIDGET_TOKEN_MAX_LEN) {
        return 0;
    }

    p = (u_char *) data + 1;
    nl = memchr(p, '\n', size - 1);
    if (nl == NULL) {
        return 0;
    }

    /* the signed token, in an allocation of its exact size for ASan */

    token = malloc(2 * size + 64);
    if (token == NULL) {
        return 0;
    }

    n = fuzz_base64url(token, p, nl - p);
    token[n++] = '.';
    n += fuzz_base64url(token + n, nl + 1, (u_char *) data + size - nl - 1);

    HMAC(EVP_sha256(), fuzz_keys[1].secret.data, fuzz_keys[1].secret.len,
         token, n, mac, &mac_len);

    token[n++] = '.';
    n += fuzz_base64url(token + n, mac, mac_len);

    t.data = malloc(n);
    if (t.data != NULL) {
        memcpy(t.data, token, n);
        t.len = n;

        fuzz_verify(&t);

        free(t.data);
    }

    free(token);

    return 0;
}
