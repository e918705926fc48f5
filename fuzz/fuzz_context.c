
/*
 * Copyright (C) Parley
 *
 * libFuzzer harness of the context signer,
 * ngx_http_parley_context_sign().  An input is its fields, one a line:
 *
 *   <tenant>\n<kind>\n<principal>\n<session>\n<request id>\n<unix ms>
 *
 * The signer must refuse exactly the fields that do not fit the format of
 * shared/parley_context.h, and what it signs must parse back into the
 * same fields, fit in PARLEY_CONTEXT_MAX_LEN and carry the right HMAC:
 * no value can smuggle a field separator into the context.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ngx_http_parley_token.h"


#define FUZZ_FIELDS  6


static ngx_str_t  fuzz_secret =
    ngx_string("an-edge-secret-of-at-least-32-bytes-for-the-fuzzer");


static int
fuzz_eq(u_char *p, size_t len, ngx_str_t *s)
{
    return len == s->len && memcmp(p, s->data, len) == 0;
}


static int
fuzz_fields_valid(ngx_http_parley_context_t *cx)
{
    size_t  i;

    for (i = 0; i < cx->kind.len; i++) {
        if (cx->kind.data[i] < 'a' || cx->kind.data[i] > 'z') {
            return 0;
        }
    }

    return ngx_http_parley_is_uuid(cx->tenant.data, cx->tenant.len)
           && cx->kind.len >= 1 && cx->kind.len <= 16
           && ngx_http_parley_is_token(cx->principal.data, cx->principal.len)
           && (cx->session.len == 0
               || ngx_http_parley_is_token(cx->session.data,
                                           cx->session.len))
           && ngx_http_parley_is_token(cx->request_id.data,
                                       cx->request_id.len)
           && cx->unix_ms <= 9999999999999999999ULL;
}


static void
fuzz_check(ngx_http_parley_context_t *cx, u_char *buf, size_t len)
{
    u_char        *part[7], *end[7], *p, *last, *colon;
    size_t         n, i, mac_len;
    unsigned int   ml;
    u_char         mac[EVP_MAX_MD_SIZE], sig[64], digits[32];

    if (len > PARLEY_CONTEXT_MAX_LEN) {
        abort();
    }

    p = buf;
    last = buf + len;

    for (n = 0; n < 7; n++) {
        part[n] = p;

        while (p < last && *p != '.') {
            p++;
        }

        end[n] = p;

        if (p == last) {
            break;
        }

        p++;
    }

    if (n != 6 || end[6] != last) {
        abort();
    }

    colon = memchr(part[2], ':', end[2] - part[2]);

    if (!fuzz_eq(part[0], end[0] - part[0], &(ngx_str_t) ngx_string("v1"))
        || !fuzz_eq(part[1], end[1] - part[1], &cx->tenant)
        || colon == NULL
        || !fuzz_eq(part[2], colon - part[2], &cx->kind)
        || !fuzz_eq(colon + 1, end[2] - colon - 1, &cx->principal)
        || !(cx->session.len
             ? fuzz_eq(part[3], end[3] - part[3], &cx->session)
             : fuzz_eq(part[3], end[3] - part[3],
                       &(ngx_str_t) ngx_string("-")))
        || !fuzz_eq(part[4], end[4] - part[4], &cx->request_id))
    {
        abort();
    }

    n = snprintf((char *) digits, sizeof(digits), "%llu",
                 (unsigned long long) cx->unix_ms);

    if (!fuzz_eq(digits, n, &(ngx_str_t) { end[5] - part[5], part[5] })) {
        abort();
    }

    HMAC(EVP_sha256(), fuzz_secret.data, fuzz_secret.len, buf,
         part[6] - 1 - buf, mac, &ml);

    mac_len = EVP_EncodeBlock(sig, mac, ml);

    /* base64 to base64url without padding */

    while (mac_len && sig[mac_len - 1] == '=') {
        mac_len--;
    }

    for (i = 0; i < mac_len; i++) {
        sig[i] = (sig[i] == '+') ? '-' : (sig[i] == '/') ? '_' : sig[i];
    }

    if (mac_len != PARLEY_CONTEXT_SIG_LEN
        || !fuzz_eq(sig, mac_len, &(ngx_str_t) { end[6] - part[6], part[6] }))
    {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                     *copy, *p, *last, *nl;
    size_t                      i, len;
    ngx_str_t                   field[FUZZ_FIELDS];
    ngx_http_parley_context_t   cx;
    u_char                      buf[PARLEY_CONTEXT_MAX_LEN];

    /* the fields point into an allocation of the input's exact size */

    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        return 0;
    }

    memcpy(copy, data, size);

    p = copy;
    last = copy + size;

    for (i = 0; i < FUZZ_FIELDS; i++) {
        nl = (i < FUZZ_FIELDS - 1) ? memchr(p, '\n', last - p) : NULL;

        field[i].data = p;
        field[i].len = (nl ? nl : last) - p;

        if (nl == NULL && i < FUZZ_FIELDS - 1) {
            free(copy);
            return 0;
        }

        p = nl ? nl + 1 : last;
    }

    cx.tenant = field[0];
    cx.kind = field[1];
    cx.principal = field[2];
    cx.session = field[3];
    cx.request_id = field[4];
    cx.unix_ms = 0;

    for (i = 0; i < field[5].len && i < 20; i++) {
        cx.unix_ms = cx.unix_ms * 10 + (field[5].data[i] & 0x0f);
    }

    len = ngx_http_parley_context_sign(&fuzz_secret, &cx, buf);

    if ((len != 0) != fuzz_fields_valid(&cx)) {
        abort();
    }

    if (len) {
        fuzz_check(&cx, buf, len);
    }

    free(copy);

    return 0;
}
