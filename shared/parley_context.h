/*
 * Copyright (C) Parley
 *
 * The edge -> engine identity context (SPEC 3.5), shared by the nginx module
 * (C) and the engine (C++).  Both sides check shared/test-vectors/context.json.
 *
 *   X-Parley-Context: v1.<tenant>.<kind>:<principal>.<session>.<request>.<ms>.<sig>
 *
 *   tenant     lowercase UUID (36 chars); the nil UUID for edge-internal calls
 *   kind       one of the PARLEY_PRINCIPAL_* strings below
 *   principal  [A-Za-z0-9_-]{1,64}, e.g. the API key's UUID
 *   session    [A-Za-z0-9_-]{1,64}, or "-" when there is no session
 *   request    [A-Za-z0-9_-]{1,64}, nginx's $request_id
 *   ms         decimal unix time in milliseconds when the edge signed
 *   sig        base64url, no padding, of HMAC-SHA256(edge secret,
 *              everything before the last '.')
 *
 * The edge secret is the content of the secret file with trailing
 * whitespace removed, used as raw bytes; it must be at least
 * PARLEY_EDGE_SECRET_MIN bytes long.
 */

#ifndef PARLEY_CONTEXT_H
#define PARLEY_CONTEXT_H

#define PARLEY_CONTEXT_HEADER        "X-Parley-Context"
#define PARLEY_CONTEXT_VERSION       "v1"
#define PARLEY_CONTEXT_MAX_LEN       384
#define PARLEY_CONTEXT_FIELD_MAX     64
#define PARLEY_CONTEXT_SIG_LEN       43      /* base64url(32 bytes), unpadded */
#define PARLEY_CONTEXT_MAX_AGE_MS    30000   /* older is refused */
#define PARLEY_CONTEXT_MAX_SKEW_MS   5000    /* further in the future is refused */
#define PARLEY_EDGE_SECRET_MIN       32

#define PARLEY_NIL_TENANT            "00000000-0000-0000-0000-000000000000"
#define PARLEY_NO_SESSION            "-"

#define PARLEY_PRINCIPAL_KEY         "key"      /* secret API key */
#define PARLEY_PRINCIPAL_WIDGET      "widget"   /* widget token */
#define PARLEY_PRINCIPAL_ADMIN       "admin"    /* admin token */
#define PARLEY_PRINCIPAL_EDGE        "edge"     /* the edge itself (introspection) */

/* every client-sent header with this prefix is removed at the edge */
#define PARLEY_HEADER_PREFIX         "X-Parley-"

/*
 * Introspection: GET PARLEY_INTROSPECT_PATH?key_hash=<64 lowercase hex>,
 * carrying a context of kind "edge" (principal "introspect", nil tenant).
 *   200  active secret key; the answer is in the headers below
 *   404  unknown, revoked, publishable or inactive: cache negatively
 *   else the edge fails closed (503)
 * Both answers have no body, so that nginx keeps the connection for the next
 * lookup (the edge's subrequest reads the header only).
 * The same path with ?origin=<scheme://host[:port]> asks whether some active
 * tenant allows that browser origin (CORS preflight at the edge): 200 (with
 * PARLEY_HDR_CACHE_TTL) or 404.
 */
#define PARLEY_INTROSPECT_PATH       "/internal/v1/introspect"
#define PARLEY_HDR_TENANT_ID         "X-Parley-Tenant-Id"
#define PARLEY_HDR_KEY_ID            "X-Parley-Key-Id"
#define PARLEY_HDR_KEY_KIND          "X-Parley-Key-Kind"     /* "secret" */
#define PARLEY_HDR_RATE_RPM          "X-Parley-Rate-Rpm"
#define PARLEY_HDR_RATE_BURST        "X-Parley-Rate-Burst"
#define PARLEY_HDR_MAX_STREAMS       "X-Parley-Max-Streams"
#define PARLEY_HDR_CACHE_TTL         "X-Parley-Cache-Ttl"    /* seconds */

#endif /* PARLEY_CONTEXT_H */
