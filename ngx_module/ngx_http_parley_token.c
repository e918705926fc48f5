
/*
 * Copyright (C) Parley
 *
 * The module's token formats: verification of widget tokens and widget
 * stream ids (JWT, HS256 only) and signing of the X-Parley-Context for
 * the engine.
 *
 * This file uses nginx's types and macros but no nginx function, only
 * libc, OpenSSL and jansson: the fuzz harnesses in fuzz/ link it without
 * the rest of nginx.  That is also why it has its own base64url coder:
 * JWTs need the strict, unpadded and canonical form, which nginx's
 * lenient decoder does not check.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ngx_http_parley_token.h"


#define NGX_HTTP_PARLEY_HS256_LEN     32

/* longest principal kind: "widget" and its siblings are far shorter */
#define NGX_HTTP_PARLEY_KIND_MAX      16

/* a NumericDate up to the end of year 9999: sums with it cannot overflow */
#define NGX_HTTP_PARLEY_JWT_TIME_MAX  253402300799LL

/* unix milliseconds fit in 19 digits, as the engine requires */
#define NGX_HTTP_PARLEY_MS_MAX        9999999999999999999ULL


static ngx_int_t ngx_http_parley_jwt_header(u_char *buf, size_t len,
    u_char *kid, size_t *kid_len);
static ngx_int_t ngx_http_parley_jwt_claims(u_char *buf, size_t len,
    const char *audience, time_t now, time_t skew,
    ngx_http_parley_widget_claims_t *claims);
static ngx_int_t ngx_http_parley_jwt_plan(json_t *root,
    ngx_http_parley_widget_claims_t *claims);
static ngx_uint_t ngx_http_parley_json_is(json_t *value, const char *s);
static ngx_int_t ngx_http_parley_json_time(json_t *root, const char *name,
    json_int_t *value);
static ngx_int_t ngx_http_parley_json_token(json_t *root, const char *name,
    u_char *buf, size_t *len);
static ngx_int_t ngx_http_parley_json_limit(json_t *value, ngx_int_t min,
    ngx_int_t *limit);
static ngx_int_t ngx_http_parley_base64url_decode(u_char *dst, size_t *dlen,
    u_char *src, size_t len);
static u_char *ngx_http_parley_base64url_encode(u_char *dst, u_char *src,
    size_t len);


static const char  *ngx_http_parley_jwt_errors[] = {
    "valid",
    "malformed",
    "algorithm not allowed",
    "unknown key id",
    "bad signature",
    "bad claims",
    "lifetime too long",
    "expired",
    "not yet valid"
};


/*
 * The checks run from cheap to costly, and nothing of the payload is read
 * before the signature holds: the compact form, the header (alg pinned to
 * HS256, a kid, nothing else), the key, the signature, then the claims,
 * whose "aud" must be the audience asked for: PARLEY_WIDGET_TOKEN_AUDIENCE
 * or PARLEY_WIDGET_STREAM_AUDIENCE, the one that needs an "sti".
 */

ngx_int_t
ngx_http_parley_jwt_verify(ngx_str_t *token, const char *audience,
    ngx_http_parley_widget_key_t *keys, ngx_uint_t nkeys, time_t now,
    time_t skew, ngx_http_parley_widget_claims_t *claims)
{
    u_char                        *p, *dot1, *dot2, *last;
    size_t                         len, kid_len;
    ngx_int_t                      rc;
    ngx_uint_t                     i;
    unsigned int                   mac_len;
    ngx_http_parley_widget_key_t  *key;
    u_char                         kid[PARLEY_CONTEXT_FIELD_MAX];
    u_char                         mac[EVP_MAX_MD_SIZE];
    u_char                         buf[PARLEY_WIDGET_TOKEN_MAX_LEN];

    if (token->len == 0 || token->len > PARLEY_WIDGET_TOKEN_MAX_LEN) {
        return NGX_HTTP_PARLEY_JWT_MALFORMED;
    }

    p = token->data;
    last = p + token->len;

    dot1 = ngx_strlchr(p, last, '.');
    if (dot1 == NULL) {
        return NGX_HTTP_PARLEY_JWT_MALFORMED;
    }

    dot2 = ngx_strlchr(dot1 + 1, last, '.');
    if (dot2 == NULL || ngx_strlchr(dot2 + 1, last, '.') != NULL) {
        return NGX_HTTP_PARLEY_JWT_MALFORMED;
    }

    /* the header */

    if (ngx_http_parley_base64url_decode(buf, &len, p, dot1 - p) != NGX_OK) {
        return NGX_HTTP_PARLEY_JWT_MALFORMED;
    }

    rc = ngx_http_parley_jwt_header(buf, len, kid, &kid_len);
    if (rc != NGX_HTTP_PARLEY_JWT_OK) {
        return rc;
    }

    /* the key ring is short: a scan is the fastest lookup */

    key = NULL;

    for (i = 0; i < nkeys; i++) {
        if (keys[i].kid.len == kid_len
            && ngx_memcmp(keys[i].kid.data, kid, kid_len) == 0)
        {
            key = &keys[i];
            break;
        }
    }

    if (key == NULL) {
        return NGX_HTTP_PARLEY_JWT_UNKNOWN_KEY;
    }

    /* the signature: exactly one HMAC-SHA256, compared in constant time */

    if (ngx_http_parley_base64url_decode(buf, &len, dot2 + 1,
                                         last - dot2 - 1)
        != NGX_OK
        || len != NGX_HTTP_PARLEY_HS256_LEN)
    {
        return NGX_HTTP_PARLEY_JWT_MALFORMED;
    }

    if (HMAC(EVP_sha256(), key->secret.data, (int) key->secret.len,
             p, dot2 - p, mac, &mac_len)
        == NULL
        || mac_len != NGX_HTTP_PARLEY_HS256_LEN)
    {
        return NGX_HTTP_PARLEY_JWT_SIGNATURE;
    }

    if (CRYPTO_memcmp(mac, buf, NGX_HTTP_PARLEY_HS256_LEN) != 0) {
        return NGX_HTTP_PARLEY_JWT_SIGNATURE;
    }

    /* the claims, signed by a key of the ring */

    if (ngx_http_parley_base64url_decode(buf, &len, dot1 + 1,
                                         dot2 - dot1 - 1)
        != NGX_OK)
    {
        return NGX_HTTP_PARLEY_JWT_MALFORMED;
    }

    return ngx_http_parley_jwt_claims(buf, len, audience, now, skew, claims);
}


const char *
ngx_http_parley_jwt_error(ngx_int_t rc)
{
    if (rc < 0 || rc > NGX_HTTP_PARLEY_JWT_NOT_YET_VALID) {
        return "unknown";
    }

    return ngx_http_parley_jwt_errors[rc];
}


/*
 * {"alg":"HS256","kid":"...","typ":"JWT"}: alg is pinned, so "none",
 * HS512, RS256 and the rest are refused; any other member, "crit" among
 * them, asks for processing this verifier does not do, and is refused.
 */

static ngx_int_t
ngx_http_parley_jwt_header(u_char *buf, size_t len, u_char *kid,
    size_t *kid_len)
{
    ngx_int_t    rc;
    json_t      *root, *value;
    const char  *name;

    root = json_loadb((const char *) buf, len, JSON_REJECT_DUPLICATES, NULL);

    if (root == NULL || !json_is_object(root)) {
        rc = NGX_HTTP_PARLEY_JWT_MALFORMED;
        goto done;
    }

    if (!ngx_http_parley_json_is(json_object_get(root, "alg"),
                                 PARLEY_WIDGET_TOKEN_ALG))
    {
        rc = NGX_HTTP_PARLEY_JWT_ALGORITHM;
        goto done;
    }

    rc = NGX_HTTP_PARLEY_JWT_MALFORMED;

    json_object_foreach(root, name, value) {

        if (ngx_strcmp(name, "alg") == 0) {
            continue;
        }

        if (ngx_strcmp(name, "typ") == 0
            && ngx_http_parley_json_is(value, PARLEY_WIDGET_TOKEN_TYP))
        {
            continue;
        }

        if (ngx_strcmp(name, "kid") == 0) {
            continue;
        }

        goto done;
    }

    if (ngx_http_parley_json_token(root, "kid", kid, kid_len) != NGX_OK) {
        goto done;
    }

    rc = NGX_HTTP_PARLEY_JWT_OK;

done:

    json_decref(root);

    return rc;
}


static ngx_int_t
ngx_http_parley_jwt_claims(u_char *buf, size_t len, const char *audience,
    time_t now, time_t skew, ngx_http_parley_widget_claims_t *claims)
{
    size_t       n;
    json_t      *root, *value;
    ngx_int_t    rc;
    json_int_t   iat, nbf, exp;

    root = json_loadb((const char *) buf, len, JSON_REJECT_DUPLICATES, NULL);

    rc = NGX_HTTP_PARLEY_JWT_CLAIMS;

    if (root == NULL || !json_is_object(root)) {
        goto done;
    }

    /* audiences never cross: a token is no stream id, nor the reverse */

    if (!ngx_http_parley_json_is(json_object_get(root, "aud"), audience)) {
        goto done;
    }

    /* a stream id names its stream; a token's "sti", if any, is not read */

    claims->stream_len = 0;

    if (ngx_strcmp(audience, PARLEY_WIDGET_STREAM_AUDIENCE) == 0) {

        if (ngx_http_parley_json_token(root, "sti", claims->stream, &n)
            != NGX_OK)
        {
            goto done;
        }

        claims->stream_len = n;
    }

    /* the issuer and the origin are the engine's; they must be there */

    value = json_object_get(root, "iss");
    if (!json_is_string(value) || json_string_length(value) == 0) {
        goto done;
    }

    value = json_object_get(root, "org");
    if (!json_is_string(value) || json_string_length(value) == 0
        || json_string_length(value) > PARLEY_ORIGIN_MAX)
    {
        goto done;
    }

    /* the browser origin the token was issued to, for CORS */

    claims->origin_len = json_string_length(value);
    ngx_memcpy(claims->origin, json_string_value(value), claims->origin_len);

    value = json_object_get(root, "tid");
    if (!json_is_string(value)
        || !ngx_http_parley_is_uuid((u_char *) json_string_value(value),
                                    json_string_length(value)))
    {
        goto done;
    }

    ngx_memcpy(claims->tenant, json_string_value(value),
               NGX_HTTP_PARLEY_UUID_LEN);

    if (ngx_http_parley_json_token(root, "sid", claims->session, &n)
        != NGX_OK)
    {
        goto done;
    }

    claims->session_len = n;

    if (ngx_http_parley_json_token(root, "agt", claims->agent, &n) != NGX_OK)
    {
        goto done;
    }

    claims->agent_len = n;

    if (ngx_http_parley_jwt_plan(root, claims) != NGX_OK) {
        goto done;
    }

    if (ngx_http_parley_json_time(root, "iat", &iat) != NGX_OK
        || ngx_http_parley_json_time(root, "nbf", &nbf) != NGX_OK
        || ngx_http_parley_json_time(root, "exp", &exp) != NGX_OK)
    {
        goto done;
    }

    if (exp <= iat || exp - iat > PARLEY_WIDGET_TOKEN_LIFETIME_MAX) {
        rc = NGX_HTTP_PARLEY_JWT_LIFETIME;
        goto done;
    }

    if (exp + skew <= now) {
        rc = NGX_HTTP_PARLEY_JWT_EXPIRED;
        goto done;
    }

    if (nbf > now + skew || iat > now + skew) {
        rc = NGX_HTTP_PARLEY_JWT_NOT_YET_VALID;
        goto done;
    }

    claims->expires = (time_t) exp;

    rc = NGX_HTTP_PARLEY_JWT_OK;

done:

    json_decref(root);

    return rc;
}


/*
 * "pln", the tenant's plan, signed by the engine with the rest: none, or
 * an object of "rpm", "burst" and "streams" only, each an integer within
 * the bounds of introspection's answers, so that a plan reaches the limits
 * the same way whichever credential carried it
 */

static ngx_int_t
ngx_http_parley_jwt_plan(json_t *root, ngx_http_parley_widget_claims_t *claims)
{
    json_t      *plan, *value;
    ngx_int_t    rc;
    const char  *name;

    claims->rpm = NGX_HTTP_PARLEY_UNSET;
    claims->burst = NGX_HTTP_PARLEY_UNSET;
    claims->max_streams = NGX_HTTP_PARLEY_UNSET;

    plan = json_object_get(root, "pln");

    if (plan == NULL) {
        return NGX_OK;
    }

    if (!json_is_object(plan)) {
        return NGX_ERROR;
    }

    json_object_foreach(plan, name, value) {

        if (ngx_strcmp(name, "rpm") == 0) {
            rc = ngx_http_parley_json_limit(value, 1, &claims->rpm);

        } else if (ngx_strcmp(name, "burst") == 0) {
            rc = ngx_http_parley_json_limit(value, 0, &claims->burst);

        } else if (ngx_strcmp(name, "streams") == 0) {
            rc = ngx_http_parley_json_limit(value, 0, &claims->max_streams);

        } else {
            rc = NGX_ERROR;
        }

        if (rc != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_http_parley_json_is(json_t *value, const char *s)
{
    size_t  len;

    len = ngx_strlen(s);

    return json_is_string(value)
           && json_string_length(value) == len
           && ngx_memcmp(json_string_value(value), s, len) == 0;
}


/* a NumericDate: a whole number of seconds */

static ngx_int_t
ngx_http_parley_json_time(json_t *root, const char *name, json_int_t *value)
{
    json_t  *v;

    v = json_object_get(root, name);

    if (!json_is_integer(v)) {
        return NGX_ERROR;
    }

    *value = json_integer_value(v);

    if (*value < 0 || *value > NGX_HTTP_PARLEY_JWT_TIME_MAX) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a string member of the context's token form, copied to buf */

static ngx_int_t
ngx_http_parley_json_token(json_t *root, const char *name, u_char *buf,
    size_t *len)
{
    json_t  *v;

    v = json_object_get(root, name);

    if (!json_is_string(v)
        || !ngx_http_parley_is_token((u_char *) json_string_value(v),
                                     json_string_length(v)))
    {
        return NGX_ERROR;
    }

    *len = json_string_length(v);
    ngx_memcpy(buf, json_string_value(v), *len);

    return NGX_OK;
}


/* a plan value of "pln": an integer of min..PARLEY_WIDGET_PLAN_MAX */

static ngx_int_t
ngx_http_parley_json_limit(json_t *value, ngx_int_t min, ngx_int_t *limit)
{
    json_int_t  n;

    if (!json_is_integer(value)) {
        return NGX_ERROR;
    }

    n = json_integer_value(value);

    if (n < min || n > PARLEY_WIDGET_PLAN_MAX) {
        return NGX_ERROR;
    }

    *limit = (ngx_int_t) n;

    return NGX_OK;
}


/*
 * v1.<tenant>.<kind>:<principal>.<session>.<request>.<ms>.<sig> of
 * shared/parley_context.h; buf holds PARLEY_CONTEXT_MAX_LEN bytes.  Every
 * field is checked, so that no value can change the format: returns the
 * length of the signed context, or 0.
 */

size_t
ngx_http_parley_context_sign(ngx_str_t *secret, ngx_http_parley_context_t *cx,
    u_char *buf)
{
    u_char        *p, *d;
    uint64_t       ms;
    ngx_uint_t     i;
    unsigned int   mac_len;
    u_char         digits[NGX_INT64_LEN];
    u_char         mac[EVP_MAX_MD_SIZE];

    if (!ngx_http_parley_is_uuid(cx->tenant.data, cx->tenant.len)
        || !ngx_http_parley_is_token(cx->principal.data, cx->principal.len)
        || !ngx_http_parley_is_token(cx->request_id.data,
                                     cx->request_id.len)
        || (cx->session.len
            && !ngx_http_parley_is_token(cx->session.data,
                                         cx->session.len))
        || cx->kind.len == 0 || cx->kind.len > NGX_HTTP_PARLEY_KIND_MAX
        || cx->unix_ms > NGX_HTTP_PARLEY_MS_MAX
        || secret->len < PARLEY_EDGE_SECRET_MIN)
    {
        return 0;
    }

    for (i = 0; i < cx->kind.len; i++) {
        if (cx->kind.data[i] < 'a' || cx->kind.data[i] > 'z') {
            return 0;
        }
    }

    p = ngx_cpymem(buf, PARLEY_CONTEXT_VERSION ".",
                   sizeof(PARLEY_CONTEXT_VERSION ".") - 1);
    p = ngx_cpymem(p, cx->tenant.data, cx->tenant.len);
    *p++ = '.';
    p = ngx_cpymem(p, cx->kind.data, cx->kind.len);
    *p++ = ':';
    p = ngx_cpymem(p, cx->principal.data, cx->principal.len);
    *p++ = '.';

    if (cx->session.len) {
        p = ngx_cpymem(p, cx->session.data, cx->session.len);

    } else {
        p = ngx_cpymem(p, PARLEY_NO_SESSION, sizeof(PARLEY_NO_SESSION) - 1);
    }

    *p++ = '.';
    p = ngx_cpymem(p, cx->request_id.data, cx->request_id.len);
    *p++ = '.';

    ms = cx->unix_ms;
    d = digits + NGX_INT64_LEN;

    do {
        *--d = (u_char) ('0' + ms % 10);
        ms /= 10;
    } while (ms);

    p = ngx_cpymem(p, d, digits + NGX_INT64_LEN - d);

    if (HMAC(EVP_sha256(), secret->data, (int) secret->len, buf, p - buf,
             mac, &mac_len)
        == NULL
        || mac_len != NGX_HTTP_PARLEY_HS256_LEN)
    {
        return 0;
    }

    *p++ = '.';
    p = ngx_http_parley_base64url_encode(p, mac, mac_len);

    return p - buf;
}


/* a lowercase UUID, the form of tenant and key ids in the context */

ngx_uint_t
ngx_http_parley_is_uuid(u_char *p, size_t len)
{
    u_char      c;
    ngx_uint_t  i;

    if (len != NGX_HTTP_PARLEY_UUID_LEN) {
        return 0;
    }

    for (i = 0; i < NGX_HTTP_PARLEY_UUID_LEN; i++) {
        c = p[i];

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') {
                return 0;
            }

            continue;
        }

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return 0;
        }
    }

    return 1;
}


/* [A-Za-z0-9_-]{1,64}: principals, sessions and request ids */

ngx_uint_t
ngx_http_parley_is_token(u_char *p, size_t len)
{
    if (len == 0 || len > PARLEY_CONTEXT_FIELD_MAX) {
        return 0;
    }

    return ngx_http_parley_is_base64url(p, len);
}


/*
 * Each byte's value in the base64url alphabet, 77 for a byte outside it
 * (the convention of nginx's own ngx_decode_base64url()): one lookup per
 * character on the key and token paths.
 */

static const u_char  ngx_http_parley_base64url_values[] = {
    77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77,
    77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77,
    77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 62, 77, 77,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 77, 77, 77, 77, 77, 77,
    77,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 77, 77, 77, 77, 63,
    77, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 77, 77, 77, 77, 77,
    77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77,
    77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77,
    77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77,
    77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77,
    77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77,
    77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77,
    77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77,
    77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77
};


/* [A-Za-z0-9_-]*: the base64url alphabet, as of a key's secret */

ngx_uint_t
ngx_http_parley_is_base64url(u_char *p, size_t len)
{
    ngx_uint_t  i;

    for (i = 0; i < len; i++) {
        if (ngx_http_parley_base64url_values[p[i]] == 77) {
            return 0;
        }
    }

    return 1;
}


/*
 * Strict base64url: the URL alphabet only, no padding, and unused bits of
 * the last character zero, so that each value has exactly one encoding.
 * dst must hold len * 3 / 4 bytes.
 */

static ngx_int_t
ngx_http_parley_base64url_decode(u_char *dst, size_t *dlen, u_char *src,
    size_t len)
{
    u_char     *d;
    uint32_t    acc;
    ngx_uint_t  i, bits, v;

    acc = 0;
    bits = 0;
    d = dst;

    for (i = 0; i < len; i++) {
        v = ngx_http_parley_base64url_values[src[i]];

        if (v == 77) {
            return NGX_ERROR;
        }

        acc = (acc << 6) | v;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            *d++ = (u_char) (acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }

    /* a lone last character, or bits left over that are not zero */

    if (bits >= 6 || acc != 0) {
        return NGX_ERROR;
    }

    *dlen = d - dst;

    return NGX_OK;
}


static u_char *
ngx_http_parley_base64url_encode(u_char *dst, u_char *src, size_t len)
{
    static const u_char  alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    while (len > 2) {
        *dst++ = alphabet[src[0] >> 2];
        *dst++ = alphabet[((src[0] & 0x03) << 4) | (src[1] >> 4)];
        *dst++ = alphabet[((src[1] & 0x0f) << 2) | (src[2] >> 6)];
        *dst++ = alphabet[src[2] & 0x3f];

        src += 3;
        len -= 3;
    }

    if (len) {
        *dst++ = alphabet[src[0] >> 2];

        if (len == 1) {
            *dst++ = alphabet[(src[0] & 0x03) << 4];

        } else {
            *dst++ = alphabet[((src[0] & 0x03) << 4) | (src[1] >> 4)];
            *dst++ = alphabet[(src[1] & 0x0f) << 2];
        }
    }

    return dst;
}
