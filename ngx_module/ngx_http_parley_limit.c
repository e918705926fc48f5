
/*
 * Copyright (C) Parley
 *
 * Request rate limits: GCRA (the generic cell rate algorithm) with one
 * theoretical arrival time per key in a shared memory zone.  A location
 * may limit per tenant, per API key, per widget session and per client
 * address; a request passes only if every limit lets it, and then each
 * of them is charged.  The "lookup" limit, per client address too, is
 * charged apart, only by a request whose key the edge must ask the
 * engine about: made-up keys cannot make it ask faster than that.  The
 * zones involved are locked together, always in
 * the order of their names, so that this is atomic across workers.  The
 * tenant's policy, requests per minute plus a burst, comes from its plan,
 * through introspection for a secret key and in the signed "pln" of a
 * widget token or stream id; its node is keyed on the tenant's id,
 * nothing of the credential, so that a tenant's API and widget requests
 * share one count in a zone.  Every other policy comes from the
 * "parley_limit" directive.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_parley.h"


/* one limit per key kind and location */
#define NGX_HTTP_PARLEY_LIMITS_MAX    5

/* a key kind byte, then at most a session id */
#define NGX_HTTP_PARLEY_LIMIT_KEY_MAX (1 + PARLEY_CONTEXT_FIELD_MAX)


/*
 * A limit node's key is the key kind, then the key; its value the
 * theoretical arrival time, in microseconds.
 */

/* one limit's step for the request at hand */
typedef struct {
    ngx_http_parley_limit_t       *limit;
    ngx_http_parley_zone_t        *zone;
    ngx_rbtree_node_t             *node;     /* NULL: a new key */
    ngx_rbtree_key_t               hash;
    ngx_str_t                      key;
    ngx_uint_t                     rpm;
    uint64_t                       interval; /* microseconds per request */
    uint64_t                       tolerance;
    uint64_t                       tat;
    uint64_t                       wait;     /* until a retry passes */
    unsigned                       refused:1;
} ngx_http_parley_gcra_t;


static ngx_int_t ngx_http_parley_limit_key(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx, ngx_uint_t kind, u_char *buf,
    ngx_str_t *key);
static ngx_uint_t ngx_http_parley_limit_applies(ngx_uint_t key,
    ngx_uint_t which);
static ngx_rbtree_key_t ngx_http_parley_limit_hash(ngx_uint_t kind,
    ngx_str_t *key);
static void ngx_http_parley_gcra_check(ngx_http_parley_gcra_t *g,
    uint64_t now);
static ngx_int_t ngx_http_parley_gcra_charge(ngx_http_parley_gcra_t *g,
    uint64_t now);
static ngx_uint_t ngx_http_parley_limit_idle(ngx_http_parley_node_t *pn,
    void *data, ngx_uint_t full);
static void ngx_http_parley_limit_lock(ngx_array_t *zones, ngx_uint_t lock);


static ngx_str_t  ngx_http_parley_limit_names[] = {
    ngx_string("tenant"),
    ngx_string("key"),
    ngx_string("session"),
    ngx_string("ip"),
    ngx_string("lookup"),
    ngx_null_string
};

static ngx_str_t  ngx_http_parley_rate_limited_bodies[] = {
    ngx_string(NGX_HTTP_PARLEY_ERROR(
        "Rate limit reached for this tenant; retry after the number of "
        "seconds in Retry-After.", "rate_limit_error", "rate_limited")),
    ngx_string(NGX_HTTP_PARLEY_ERROR(
        "Rate limit reached for this API key; retry after the number of "
        "seconds in Retry-After.", "rate_limit_error", "rate_limited")),
    ngx_string(NGX_HTTP_PARLEY_ERROR(
        "Rate limit reached for this session; retry after the number of "
        "seconds in Retry-After.", "rate_limit_error", "rate_limited")),
    ngx_string(NGX_HTTP_PARLEY_ERROR(
        "Rate limit reached for this client address; retry after the "
        "number of seconds in Retry-After.", "rate_limit_error",
        "rate_limited")),
    ngx_string(NGX_HTTP_PARLEY_ERROR(
        "Too many unknown API keys from this client address; retry after "
        "the number of seconds in Retry-After.", "rate_limit_error",
        "rate_limited"))
};

static ngx_str_t  ngx_http_parley_limit_unavailable = ngx_string(
    NGX_HTTP_PARLEY_ERROR("The rate limiter is at capacity; retry shortly.",
                          "server_error", "limit_unavailable"));


/*
 * The location's limits of the kind "which" (NGX_HTTP_PARLEY_LIMITS_*).
 * Returns NGX_OK when the request may pass, NGX_DONE once a refusal was
 * sent, or NGX_ERROR.
 */

ngx_int_t
ngx_http_parley_limit_check(ngx_http_request_t *r, ngx_http_parley_ctx_t *ctx,
    ngx_uint_t which)
{
    uint64_t                     now;
    ngx_int_t                    rc, rpm, burst;
    ngx_str_t                    tenant;
    ngx_uint_t                   i, n, tightest, retry;
    ngx_http_parley_gcra_t      *g, gcra[NGX_HTTP_PARLEY_LIMITS_MAX];
    ngx_http_parley_limit_t     *limit;
    ngx_http_parley_loc_conf_t  *plcf;
    u_char                       keys[NGX_HTTP_PARLEY_LIMITS_MAX]
                                     [NGX_HTTP_PARLEY_LIMIT_KEY_MAX];

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_parley_module);

    limit = plcf->limits->elts;
    n = 0;

    for (i = 0; i < plcf->limits->nelts; i++) {

        if (!ngx_http_parley_limit_applies(limit[i].key, which)) {
            continue;
        }

        g = &gcra[n];

        g->limit = &limit[i];
        g->zone = limit[i].shm_zone->data;

        if (ngx_http_parley_limit_key(r, ctx, limit[i].key, keys[n], &g->key)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        g->hash = ngx_http_parley_limit_hash(limit[i].key, &g->key);

        /* the tenant's plan wins over the location's defaults */

        rpm = limit[i].rpm;
        burst = limit[i].burst;

        if (limit[i].key == NGX_HTTP_PARLEY_LIMIT_TENANT) {

            if (ctx->identity.rpm != NGX_HTTP_PARLEY_UNSET) {
                rpm = ctx->identity.rpm;
            }

            if (ctx->identity.burst != NGX_HTTP_PARLEY_UNSET) {
                burst = ctx->identity.burst;
            }
        }

        /*
         * A plan comes from the key cache's shared memory or a widget
         * credential: whatever value it holds, the rate is kept within
         * 1..NGX_HTTP_PARLEY_MAX_RATE (below one, the strictest rate) and
         * the burst within 0..NGX_HTTP_PARLEY_MAX_RATE, so that the
         * interval, which divides below, is never zero and no product
         * overflows.
         */

        if (rpm < 1) {
            rpm = 1;

        } else if (rpm > NGX_HTTP_PARLEY_MAX_RATE) {
            rpm = NGX_HTTP_PARLEY_MAX_RATE;
        }

        if (burst < 0) {
            burst = 0;

        } else if (burst > NGX_HTTP_PARLEY_MAX_RATE) {
            burst = NGX_HTTP_PARLEY_MAX_RATE;
        }

        g->rpm = rpm;
        g->interval = 60 * 1000000 / (uint64_t) rpm;
        g->tolerance = (uint64_t) burst * g->interval;

        n++;
    }

    if (n == 0) {
        return NGX_OK;
    }

    now = (uint64_t) ngx_current_msec * 1000;

    ngx_http_parley_limit_lock(plcf->limit_zones, 1);

    rc = NGX_OK;

    for (i = 0; i < n; i++) {
        ngx_http_parley_gcra_check(&gcra[i], now);

        if (gcra[i].refused && !plcf->limit_dry_run) {
            rc = NGX_BUSY;
        }
    }

    if (rc == NGX_OK) {

        /*
         * the known keys first: charged, none of them is idle, so the
         * allocation of a new key cannot evict one of them
         */

        for (i = 0; i < n; i++) {
            if (gcra[i].node && !gcra[i].refused) {
                (void) ngx_http_parley_gcra_charge(&gcra[i], now);
            }
        }

        for (i = 0; i < n; i++) {
            if (gcra[i].node == NULL && !gcra[i].refused
                && ngx_http_parley_gcra_charge(&gcra[i], now) != NGX_OK)
            {
                rc = NGX_ERROR;
                break;
            }
        }
    }

    ngx_http_parley_limit_lock(plcf->limit_zones, 0);

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "parley: could not allocate a limit node in "
                      "parley_limit_zone \"%V\", refusing the request",
                      &gcra[i].limit->shm_zone->shm.name);

        ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_ZONE_FULL, 1);

        return ngx_http_parley_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          &ngx_http_parley_limit_unavailable);
    }

    /*
     * The headers show the limit that decides: of the refusing ones the
     * one that lasts longest, else the one with the fewest requests left.
     */

    if (ctx->authenticated) {
        tenant.len = NGX_HTTP_PARLEY_UUID_LEN;
        tenant.data = ctx->identity.tenant;

    } else {
        ngx_str_set(&tenant, "-");
    }

    tightest = 0;

    for (i = 0; i < n; i++) {
        g = &gcra[i];

        if (g->refused) {
            ngx_log_error(plcf->limit_log_level, r->connection->log, 0,
                          "parley: limiting requests%s by %V, tenant %V, "
                          "retry in %uL ms",
                          plcf->limit_dry_run ? ", dry run," : "",
                          &ngx_http_parley_limit_names[g->limit->key],
                          &tenant, (g->wait + 999) / 1000);

            ngx_http_parley_count(r, (plcf->limit_dry_run
                                      ? NGX_HTTP_PARLEY_STAT_DRY_RUN
                                      : NGX_HTTP_PARLEY_STAT_RATE_LIMITED)
                                     + g->limit->key, 1);
        }

        if (i == 0) {
            continue;
        }

        if (gcra[tightest].refused || g->refused) {
            if (g->refused
                && (!gcra[tightest].refused || g->wait > gcra[tightest].wait))
            {
                tightest = i;
            }

            continue;
        }

        if ((g->tolerance + g->interval - (g->tat - now)) / g->interval
            < (gcra[tightest].tolerance + gcra[tightest].interval
               - (gcra[tightest].tat - now)) / gcra[tightest].interval)
        {
            tightest = i;
        }
    }

    g = &gcra[tightest];

    /*
     * A lookup limit only shows in the headers of its refusals: the
     * request's own limits are checked, and reported, once the key is known.
     */

    if (which == NGX_HTTP_PARLEY_LIMITS_LOOKUP
        && (!g->refused || plcf->limit_dry_run))
    {
        return NGX_OK;
    }

    ctx->limited = 1;
    ctx->rate_policy = ngx_http_parley_limit_names[g->limit->key];
    ctx->rate_quota = g->rpm;

    if (g->refused) {

        /* a retry passes after g->wait: round up, never down */

        retry = (g->wait + 999999) / 1000000;

        ctx->rate_remaining = 0;
        ctx->rate_reset = retry;

        if (plcf->limit_dry_run) {
            return NGX_OK;
        }

        if (ngx_http_parley_rate_limited(r, retry) != NGX_OK) {
            return NGX_ERROR;
        }

        return ngx_http_parley_send_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                          &ngx_http_parley_rate_limited_bodies[g->limit->key]);
    }

    /* g->tat - now: the time until all of the burst is back */

    ctx->rate_remaining = (g->tolerance + g->interval - (g->tat - now))
                          / g->interval;
    ctx->rate_reset = (g->tat - now + 999999) / 1000000;

    return NGX_OK;
}


/*
 * A CORS preflight carries no credential yet: only the limits per client
 * address apply to it.  A lookup limit is charged on its own, before the
 * engine is asked about a key.
 */

static ngx_uint_t
ngx_http_parley_limit_applies(ngx_uint_t key, ngx_uint_t which)
{
    switch (which) {

    case NGX_HTTP_PARLEY_LIMITS_PREFLIGHT:
        return key == NGX_HTTP_PARLEY_LIMIT_IP;

    case NGX_HTTP_PARLEY_LIMITS_LOOKUP:
        return key == NGX_HTTP_PARLEY_LIMIT_LOOKUP;

    default: /* NGX_HTTP_PARLEY_LIMITS_REQUEST */
        return key != NGX_HTTP_PARLEY_LIMIT_LOOKUP;
    }
}


/*
 * The tree key of a limit key.  Tenant and key ids are UUIDs, unique
 * already: their first hex digits, as they are, make the tree key (the
 * tree stays balanced whatever they are, and equal tree keys are told
 * apart by the whole key), which spares a hash over 37 bytes per limit on
 * every request.  Other keys are hashed.
 */

static ngx_rbtree_key_t
ngx_http_parley_limit_hash(ngx_uint_t kind, ngx_str_t *key)
{
    ngx_rbtree_key_t  hash;

    if (kind != NGX_HTTP_PARLEY_LIMIT_TENANT
        && kind != NGX_HTTP_PARLEY_LIMIT_KEY)
    {
        return ngx_murmur_hash2(key->data, key->len);
    }

    /* after the kind byte */
    ngx_memcpy(&hash, key->data + 1, sizeof(ngx_rbtree_key_t));

    return hash;
}


/* the limit's key: its kind, then what it is keyed on */

static ngx_int_t
ngx_http_parley_limit_key(ngx_http_request_t *r, ngx_http_parley_ctx_t *ctx,
    ngx_uint_t kind, u_char *buf, ngx_str_t *key)
{
    u_char               *p;
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;
#endif

    p = buf;
    *p++ = (u_char) ('0' + kind);

    switch (kind) {

    case NGX_HTTP_PARLEY_LIMIT_TENANT:
        p = ngx_cpymem(p, ctx->identity.tenant, NGX_HTTP_PARLEY_UUID_LEN);
        break;

    case NGX_HTTP_PARLEY_LIMIT_KEY:
        p = ngx_cpymem(p, ctx->identity.key_id, NGX_HTTP_PARLEY_UUID_LEN);
        break;

    case NGX_HTTP_PARLEY_LIMIT_SESSION:
        if (ctx->session.len == 0
            || ctx->session.len > PARLEY_CONTEXT_FIELD_MAX)
        {
            return NGX_ERROR;
        }

        p = ngx_cpymem(p, ctx->session.data, ctx->session.len);
        break;

    default: /* NGX_HTTP_PARLEY_LIMIT_IP, NGX_HTTP_PARLEY_LIMIT_LOOKUP */

        /*
         * the connection's address, which the realip module replaces
         * with the client's behind a trusted proxy, and only then
         */

        switch (r->connection->sockaddr->sa_family) {

        case AF_INET:
            sin = (struct sockaddr_in *) r->connection->sockaddr;
            p = ngx_cpymem(p, &sin->sin_addr, sizeof(struct in_addr));
            break;

#if (NGX_HAVE_INET6)
        case AF_INET6:
            sin6 = (struct sockaddr_in6 *) r->connection->sockaddr;

            if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
                /* an IPv4 client of a dual-stack socket: as over IPv4 */
                p = ngx_cpymem(p, &sin6->sin6_addr.s6_addr[12],
                               sizeof(struct in_addr));
                break;
            }

            /*
             * the /64, what one subscriber usually gets: keyed on the
             * whole address, one client would have 2^64 limits
             */

            p = ngx_cpymem(p, sin6->sin6_addr.s6_addr, 8);
            break;
#endif

        default:
            /* every client of a Unix socket is the same client */
            break;
        }
    }

    key->data = buf;
    key->len = p - buf;

    return NGX_OK;
}


/*
 * A request passes when the key's theoretical arrival time is no further
 * ahead of now than the tolerance (the burst).  Nothing changes here.
 */

static void
ngx_http_parley_gcra_check(ngx_http_parley_gcra_t *g, uint64_t now)
{
    uint64_t  *tat;

    g->node = ngx_http_parley_zone_find(g->zone, g->hash, &g->key);
    g->tat = now;

    if (g->node) {
        tat = ngx_http_parley_node_value(
                  (ngx_http_parley_node_t *) &g->node->color);
        g->tat = ngx_max(*tat, now);
    }

    if (g->tat - now > g->tolerance) {
        g->refused = 1;
        g->wait = g->tat - g->tolerance - now;
        return;
    }

    g->refused = 0;
    g->tat += g->interval;
}


/* charges a checked request: NGX_OK, or NGX_ERROR when the zone is full */

static ngx_int_t
ngx_http_parley_gcra_charge(ngx_http_parley_gcra_t *g, uint64_t now)
{
    uint64_t                *tat;
    ngx_http_parley_node_t  *pn;

    if (g->node) {
        pn = (ngx_http_parley_node_t *) &g->node->color;
        ngx_http_parley_zone_touch(g->zone, pn);

    } else {
        g->node = ngx_http_parley_zone_insert(g->zone, g->hash, &g->key,
                                              sizeof(uint64_t),
                                              ngx_http_parley_limit_idle,
                                              &now);
        if (g->node == NULL) {
            return NGX_ERROR;
        }

        pn = (ngx_http_parley_node_t *) &g->node->color;
    }

    tat = ngx_http_parley_node_value(pn);
    *tat = g->tat;

    return NGX_OK;
}


/*
 * Only idle keys, those whose full burst is available again, are
 * evicted: forgetting them changes nothing.  A zone full of active keys
 * refuses rather than forget anyone's state.
 */

static ngx_uint_t
ngx_http_parley_limit_idle(ngx_http_parley_node_t *pn, void *data,
    ngx_uint_t full)
{
    uint64_t  *now = data;

    uint64_t  *tat;

    tat = ngx_http_parley_node_value(pn);

    return *tat <= *now;
}


/* zones in the order of their names: no two workers wait for each other */

static void
ngx_http_parley_limit_lock(ngx_array_t *zones, ngx_uint_t lock)
{
    ngx_uint_t               i;
    ngx_shm_zone_t         **shm_zone;
    ngx_http_parley_zone_t  *zone;

    shm_zone = zones->elts;

    for (i = 0; i < zones->nelts; i++) {
        zone = shm_zone[lock ? i : zones->nelts - 1 - i]->data;

        if (lock) {
            ngx_shmtx_lock(&zone->shpool->mutex);

        } else {
            ngx_shmtx_unlock(&zone->shpool->mutex);
        }
    }
}


/* Retry-After for a 429: the error body is the caller's */

ngx_int_t
ngx_http_parley_rate_limited(ngx_http_request_t *r, ngx_uint_t retry)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->value.data = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (h->value.data == NULL) {
        h->hash = 0;
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Retry-After");
    h->value.len = ngx_sprintf(h->value.data, "%ui", retry) - h->value.data;

    return NGX_OK;
}


char *
ngx_http_parley_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t  *value;

    value = cf->args->elts;

    if (ngx_http_parley_zone_add(cf, &value[1], NGX_HTTP_PARLEY_ZONE_LIMITS)
        == NULL)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * parley_limit tenant|key|session|ip|lookup zone=<name> rate=<n>r/m|r/s
 *     [burst=<n>];
 * parley_limit off;
 */

char *
ngx_http_parley_limit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_parley_loc_conf_t *plcf = conf;

    u_char                   *p;
    size_t                    len;
    ngx_int_t                 n, scale;
    ngx_str_t                *value, name;
    ngx_uint_t                i, key;
    ngx_shm_zone_t           *shm_zone;
    ngx_http_parley_limit_t  *limit;

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {

        if (cf->args->nelts != 2 || plcf->limits != NGX_CONF_UNSET_PTR) {
            return "is duplicate";
        }

        plcf->limits = NULL;
        return NGX_CONF_OK;
    }

    if (plcf->limits == NULL) {
        return "is duplicate";
    }

    for (key = 0; ngx_http_parley_limit_names[key].len; key++) {
        if (ngx_strcmp(value[1].data, ngx_http_parley_limit_names[key].data)
            == 0)
        {
            break;
        }
    }

    if (ngx_http_parley_limit_names[key].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown limit key \"%V\", expected \"tenant\", "
                           "\"key\", \"session\", \"ip\" or \"lookup\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (plcf->limits == NGX_CONF_UNSET_PTR) {
        plcf->limits = ngx_array_create(cf->pool, NGX_HTTP_PARLEY_LIMITS_MAX,
                                        sizeof(ngx_http_parley_limit_t));
        if (plcf->limits == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    limit = plcf->limits->elts;

    for (i = 0; i < plcf->limits->nelts; i++) {
        if (limit[i].key == key) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate \"%V\" limit", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    limit = ngx_array_push(plcf->limits);
    if (limit == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(limit, sizeof(ngx_http_parley_limit_t));
    limit->key = key;

    shm_zone = NULL;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {

            name.len = value[i].len - 5;
            name.data = value[i].data + 5;

            shm_zone = ngx_shared_memory_add(cf, &name, 0,
                                             &ngx_http_parley_module);
            if (shm_zone == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "rate=", 5) == 0) {

            len = value[i].len - 5;
            p = value[i].data + len + 5 - 3;

            if (len > 3 && ngx_strncmp(p, "r/s", 3) == 0) {
                scale = 60;

            } else if (len > 3 && ngx_strncmp(p, "r/m", 3) == 0) {
                scale = 1;

            } else {
                goto invalid;
            }

            n = ngx_atoi(value[i].data + 5, len - 3);
            if (n <= 0 || n > NGX_HTTP_PARLEY_MAX_RATE / scale) {
                goto invalid;
            }

            limit->rpm = n * scale;

            continue;
        }

        if (ngx_strncmp(value[i].data, "burst=", 6) == 0) {

            n = ngx_atoi(value[i].data + 6, value[i].len - 6);
            if (n < 0 || n > NGX_HTTP_PARLEY_MAX_RATE) {
                goto invalid;
            }

            limit->burst = n;

            continue;
        }

        goto invalid;
    }

    if (shm_zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone\" parameter",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (limit->rpm == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"rate\" parameter",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    limit->shm_zone = shm_zone;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);

    return NGX_CONF_ERROR;
}


/*
 * Checks that each limit's key is known in the location, and lists the
 * location's zones in the order in which requests lock them.
 */

char *
ngx_http_parley_limit_merge(ngx_conf_t *cf, ngx_http_parley_loc_conf_t *conf)
{
    char                     *needs;
    ngx_uint_t                i, j, k, ok;
    ngx_shm_zone_t          **zone, *shm_zone;
    ngx_http_parley_limit_t  *limit;

    if (conf->limits == NULL || conf->limit_zones) {
        return NGX_CONF_OK;
    }

    conf->limit_zones = ngx_array_create(cf->pool, NGX_HTTP_PARLEY_LIMITS_MAX,
                                         sizeof(ngx_shm_zone_t *));
    if (conf->limit_zones == NULL) {
        return NGX_CONF_ERROR;
    }

    limit = conf->limits->elts;

    for (i = 0; i < conf->limits->nelts; i++) {

        switch (limit[i].key) {

        case NGX_HTTP_PARLEY_LIMIT_TENANT:
            ok = (conf->auth == NGX_HTTP_PARLEY_AUTH_SECRET
                  || conf->auth == NGX_HTTP_PARLEY_AUTH_WIDGET
                  || conf->auth == NGX_HTTP_PARLEY_AUTH_WIDGET_STREAM);
            needs = "\"parley_auth secret\", \"widget\" or "
                    "\"widget_stream\"";
            break;

        case NGX_HTTP_PARLEY_LIMIT_KEY:
        case NGX_HTTP_PARLEY_LIMIT_LOOKUP:
            ok = (conf->auth == NGX_HTTP_PARLEY_AUTH_SECRET);
            needs = "\"parley_auth secret\"";
            break;

        case NGX_HTTP_PARLEY_LIMIT_SESSION:
            ok = (conf->auth == NGX_HTTP_PARLEY_AUTH_WIDGET
                  || conf->auth == NGX_HTTP_PARLEY_AUTH_WIDGET_STREAM);
            needs = "\"parley_auth widget\" or \"widget_stream\"";
            break;

        default: /* NGX_HTTP_PARLEY_LIMIT_IP */
            ok = 1;
            needs = "";
        }

        if (!ok) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"parley_limit %V\" needs %s",
                               &ngx_http_parley_limit_names[limit[i].key],
                               needs);
            return NGX_CONF_ERROR;
        }

        shm_zone = limit[i].shm_zone;

        if (!ngx_http_parley_zone_is(shm_zone, NGX_HTTP_PARLEY_ZONE_LIMITS)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" is not a \"parley_limit_zone\"",
                               &shm_zone->shm.name);
            return NGX_CONF_ERROR;
        }

        /* an insertion sort by name, without duplicates */

        zone = conf->limit_zones->elts;

        for (j = 0; j < conf->limit_zones->nelts; j++) {
            if (ngx_memn2cmp(shm_zone->shm.name.data, zone[j]->shm.name.data,
                             shm_zone->shm.name.len, zone[j]->shm.name.len)
                <= 0)
            {
                break;
            }
        }

        if (j < conf->limit_zones->nelts && zone[j] == shm_zone) {
            continue;
        }

        if (ngx_array_push(conf->limit_zones) == NULL) {
            return NGX_CONF_ERROR;
        }

        zone = conf->limit_zones->elts;

        for (k = conf->limit_zones->nelts - 1; k > j; k--) {
            zone[k] = zone[k - 1];
        }

        zone[j] = shm_zone;
    }

    return NGX_CONF_OK;
}
