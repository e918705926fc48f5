
/*
 * Copyright (C) Parley
 *
 * Per-tenant request rate limits: GCRA (the generic cell rate algorithm)
 * with one theoretical arrival time per tenant in a shared memory zone,
 * updated atomically under the zone's mutex.  The policy, requests per
 * minute plus a burst, comes from the tenant's plan through introspection,
 * or from the "parley_limit" directive when the plan sets none.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_parley.h"


typedef struct {
    u_char                         color;
    u_char                         dummy;
    ngx_queue_t                    queue;
    uint64_t                       tat;      /* microseconds */
    u_char                         tenant[NGX_HTTP_PARLEY_UUID_LEN];
} ngx_http_parley_limit_node_t;


typedef struct {
    ngx_rbtree_t                   rbtree;
    ngx_rbtree_node_t              sentinel;
    ngx_queue_t                    queue;    /* most recently used first */
} ngx_http_parley_limit_shctx_t;


typedef struct {
    ngx_http_parley_limit_shctx_t *sh;
    ngx_slab_pool_t               *shpool;
} ngx_http_parley_limit_ctx_t;


typedef struct {
    uint64_t                       interval; /* microseconds per request */
    uint64_t                       tolerance;
    uint64_t                       wait;     /* until a retry passes */
    uint64_t                       used;     /* until all is recovered */
} ngx_http_parley_gcra_t;


static ngx_int_t ngx_http_parley_gcra(ngx_http_parley_limit_ctx_t *lctx,
    u_char *tenant, uint64_t now, ngx_http_parley_gcra_t *g);
static ngx_rbtree_node_t *ngx_http_parley_limit_find(
    ngx_http_parley_limit_shctx_t *sh, ngx_rbtree_key_t hash, u_char *tenant);
static ngx_rbtree_node_t *ngx_http_parley_limit_alloc(
    ngx_http_parley_limit_ctx_t *lctx, uint64_t now);
static void ngx_http_parley_limit_expire(ngx_http_parley_limit_ctx_t *lctx,
    uint64_t now, ngx_uint_t all);
static void ngx_http_parley_limit_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_int_t ngx_http_parley_limit_refuse(ngx_http_request_t *r,
    ngx_uint_t retry);


static ngx_str_t  ngx_http_parley_rate_limited = ngx_string(
    NGX_HTTP_PARLEY_ERROR("Rate limit reached for this tenant; retry after "
                          "the number of seconds in Retry-After.",
                          "rate_limit_error", "rate_limited"));

static ngx_str_t  ngx_http_parley_limit_unavailable = ngx_string(
    NGX_HTTP_PARLEY_ERROR("The rate limiter is at capacity; retry shortly.",
                          "server_error", "limit_unavailable"));


/*
 * Returns NGX_OK when the request may pass, NGX_DONE once a refusal was
 * sent, or NGX_ERROR.
 */

ngx_int_t
ngx_http_parley_limit_check(ngx_http_request_t *r, ngx_http_parley_ctx_t *ctx)
{
    uint64_t                     now;
    ngx_int_t                    rc;
    ngx_uint_t                   rpm, burst;
    ngx_http_parley_gcra_t       g;
    ngx_http_parley_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_parley_module);

    rpm = (ctx->identity.rpm == NGX_HTTP_PARLEY_UNSET)
          ? plcf->limit_rpm : (ngx_uint_t) ctx->identity.rpm;

    burst = (ctx->identity.burst == NGX_HTTP_PARLEY_UNSET)
            ? plcf->limit_burst : (ngx_uint_t) ctx->identity.burst;

    g.interval = 60 * 1000000 / rpm;
    g.tolerance = burst * g.interval;

    now = (uint64_t) ngx_current_msec * 1000;

    rc = ngx_http_parley_gcra(plcf->limit_zone->data, ctx->identity.tenant,
                              now, &g);

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "parley: could not allocate a limit node in "
                      "parley_limit_zone \"%V\", refusing the request",
                      &plcf->limit_zone->shm.name);

        return ngx_http_parley_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          &ngx_http_parley_limit_unavailable);
    }

    ctx->limited = 1;
    ctx->rate_quota = rpm;

    if (rc == NGX_OK) {
        ctx->rate_remaining = (g.tolerance + g.interval - g.used)
                              / g.interval;
        ctx->rate_reset = (g.used + 999999) / 1000000;

        return NGX_OK;
    }

    /* refused: a retry passes after g.wait, so round up, never down */

    ctx->rate_remaining = 0;
    ctx->rate_reset = (g.wait + 999999) / 1000000;

    ngx_log_error(plcf->limit_log_level, r->connection->log, 0,
                  "parley: limiting requests%s of tenant %*s, "
                  "retry in %uL ms",
                  plcf->limit_dry_run ? ", dry run," : "",
                  (size_t) NGX_HTTP_PARLEY_UUID_LEN, ctx->identity.tenant,
                  (g.wait + 999) / 1000);

    if (plcf->limit_dry_run) {
        return NGX_OK;
    }

    return ngx_http_parley_limit_refuse(r, ctx->rate_reset);
}


/*
 * One GCRA step for the tenant: a request passes when the theoretical
 * arrival time is no further ahead of now than the tolerance (the burst).
 * Returns NGX_OK (passed, the time advanced), NGX_BUSY (refused, nothing
 * changed), or NGX_ERROR when the zone is full of active tenants.
 */

static ngx_int_t
ngx_http_parley_gcra(ngx_http_parley_limit_ctx_t *lctx, u_char *tenant,
    uint64_t now, ngx_http_parley_gcra_t *g)
{
    uint64_t                       tat;
    ngx_rbtree_key_t               hash;
    ngx_rbtree_node_t             *node;
    ngx_http_parley_limit_node_t  *ln;

    hash = ngx_crc32_short(tenant, NGX_HTTP_PARLEY_UUID_LEN);

    ngx_shmtx_lock(&lctx->shpool->mutex);

    node = ngx_http_parley_limit_find(lctx->sh, hash, tenant);

    if (node) {
        ln = (ngx_http_parley_limit_node_t *) &node->color;
        ngx_queue_remove(&ln->queue);

    } else {
        node = ngx_http_parley_limit_alloc(lctx, now);

        if (node == NULL) {
            ngx_shmtx_unlock(&lctx->shpool->mutex);
            return NGX_ERROR;
        }

        node->key = hash;

        ln = (ngx_http_parley_limit_node_t *) &node->color;
        ln->tat = now;
        ngx_memcpy(ln->tenant, tenant, NGX_HTTP_PARLEY_UUID_LEN);

        ngx_rbtree_insert(&lctx->sh->rbtree, node);
    }

    ngx_queue_insert_head(&lctx->sh->queue, &ln->queue);

    tat = ngx_max(ln->tat, now);

    if (tat - now > g->tolerance) {
        g->wait = tat - g->tolerance - now;
        ngx_shmtx_unlock(&lctx->shpool->mutex);
        return NGX_BUSY;
    }

    ln->tat = tat + g->interval;
    g->used = ln->tat - now;

    ngx_shmtx_unlock(&lctx->shpool->mutex);

    return NGX_OK;
}


static ngx_rbtree_node_t *
ngx_http_parley_limit_find(ngx_http_parley_limit_shctx_t *sh,
    ngx_rbtree_key_t hash, u_char *tenant)
{
    ngx_int_t                      rc;
    ngx_rbtree_node_t             *node, *sentinel;
    ngx_http_parley_limit_node_t  *ln;

    node = sh->rbtree.root;
    sentinel = sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        ln = (ngx_http_parley_limit_node_t *) &node->color;

        rc = ngx_memcmp(tenant, ln->tenant, NGX_HTTP_PARLEY_UUID_LEN);

        if (rc == 0) {
            return node;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/*
 * Only idle tenants, those whose full burst is available again, are
 * evicted: forgetting them changes nothing.  A zone full of active
 * tenants refuses rather than forget anyone's state.
 */

static ngx_rbtree_node_t *
ngx_http_parley_limit_alloc(ngx_http_parley_limit_ctx_t *lctx, uint64_t now)
{
    size_t              size;
    ngx_rbtree_node_t  *node;

    size = offsetof(ngx_rbtree_node_t, color)
           + sizeof(ngx_http_parley_limit_node_t);

    ngx_http_parley_limit_expire(lctx, now, 0);

    node = ngx_slab_alloc_locked(lctx->shpool, size);

    if (node == NULL) {
        ngx_http_parley_limit_expire(lctx, now, 1);
        node = ngx_slab_alloc_locked(lctx->shpool, size);
    }

    return node;
}


/* removes idle tenants: up to two from the LRU end, or every one */

static void
ngx_http_parley_limit_expire(ngx_http_parley_limit_ctx_t *lctx,
    uint64_t now, ngx_uint_t all)
{
    ngx_uint_t                     n;
    ngx_queue_t                   *q, *prev;
    ngx_rbtree_node_t             *node;
    ngx_http_parley_limit_node_t  *ln;

    n = 0;
    q = ngx_queue_last(&lctx->sh->queue);

    while (q != ngx_queue_sentinel(&lctx->sh->queue)) {

        if (!all && n == 2) {
            return;
        }

        n++;
        prev = ngx_queue_prev(q);
        ln = ngx_queue_data(q, ngx_http_parley_limit_node_t, queue);

        if (ln->tat <= now) {
            node = (ngx_rbtree_node_t *)
                       ((u_char *) ln - offsetof(ngx_rbtree_node_t, color));

            ngx_queue_remove(q);
            ngx_rbtree_delete(&lctx->sh->rbtree, node);
            ngx_slab_free_locked(lctx->shpool, node);
        }

        q = prev;
    }
}


static void
ngx_http_parley_limit_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t             **p;
    ngx_http_parley_limit_node_t   *ln, *lt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            ln = (ngx_http_parley_limit_node_t *) &node->color;
            lt = (ngx_http_parley_limit_node_t *) &temp->color;

            p = (ngx_memcmp(ln->tenant, lt->tenant, NGX_HTTP_PARLEY_UUID_LEN)
                 < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static ngx_int_t
ngx_http_parley_limit_refuse(ngx_http_request_t *r, ngx_uint_t retry)
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

    return ngx_http_parley_send_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                      &ngx_http_parley_rate_limited);
}


ngx_int_t
ngx_http_parley_limit_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_parley_limit_ctx_t  *octx = data;

    size_t                        len;
    ngx_http_parley_limit_ctx_t  *lctx;

    lctx = shm_zone->data;

    if (octx) {
        /* reload: the zone and every tenant's state live on */
        lctx->sh = octx->sh;
        lctx->shpool = octx->shpool;
        return NGX_OK;
    }

    lctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        lctx->sh = lctx->shpool->data;
        return NGX_OK;
    }

    lctx->sh = ngx_slab_alloc(lctx->shpool,
                              sizeof(ngx_http_parley_limit_shctx_t));
    if (lctx->sh == NULL) {
        return NGX_ERROR;
    }

    lctx->shpool->data = lctx->sh;

    ngx_rbtree_init(&lctx->sh->rbtree, &lctx->sh->sentinel,
                    ngx_http_parley_limit_rbtree_insert_value);

    ngx_queue_init(&lctx->sh->queue);

    len = sizeof(" in parley_limit_zone \"\"") + shm_zone->shm.name.len;

    lctx->shpool->log_ctx = ngx_slab_alloc(lctx->shpool, len);
    if (lctx->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(lctx->shpool->log_ctx, " in parley_limit_zone \"%V\"%Z",
                &shm_zone->shm.name);

    lctx->shpool->log_nomem = 0;

    return NGX_OK;
}


char *
ngx_http_parley_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ssize_t                       size;
    ngx_str_t                    *value, name;
    ngx_shm_zone_t               *shm_zone;
    ngx_http_parley_limit_ctx_t  *lctx;

    value = cf->args->elts;

    if (ngx_http_parley_zone_arg(cf, &value[1], &name, &size) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    lctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_parley_limit_ctx_t));
    if (lctx == NULL) {
        return NGX_CONF_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &name, size, &ngx_http_parley_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate zone \"%V\"", &name);
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_http_parley_limit_init_zone;
    shm_zone->data = lctx;

    return NGX_CONF_OK;
}


/*
 * parley_limit tenant zone=<name> rate=<n>r/m|r/s [burst=<n>];
 * parley_limit off;
 */

char *
ngx_http_parley_limit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_parley_loc_conf_t *plcf = conf;

    u_char          *p;
    size_t           len;
    ngx_int_t        n, scale;
    ngx_str_t       *value, name;
    ngx_uint_t       i;
    ngx_shm_zone_t  *shm_zone;

    if (plcf->limit_zone != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        plcf->limit_zone = NULL;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "tenant") != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown limit key \"%V\", expected \"tenant\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    shm_zone = NULL;
    plcf->limit_rpm = 0;
    plcf->limit_burst = 0;

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

            plcf->limit_rpm = n * scale;

            continue;
        }

        if (ngx_strncmp(value[i].data, "burst=", 6) == 0) {

            n = ngx_atoi(value[i].data + 6, value[i].len - 6);
            if (n < 0 || n > NGX_HTTP_PARLEY_MAX_RATE) {
                goto invalid;
            }

            plcf->limit_burst = n;

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

    if (plcf->limit_rpm == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"rate\" parameter",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    plcf->limit_zone = shm_zone;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);

    return NGX_CONF_ERROR;
}
