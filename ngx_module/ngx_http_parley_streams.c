
/*
 * Copyright (C) Parley
 *
 * Concurrent streams per tenant, in limit_conn's model: a slot is taken
 * in the access phase once the tenant is known, and given back by a
 * cleanup of the request's pool, so that every ending returns it:
 * completion, client abort, upstream error, timeout.  The maximum comes
 * from the tenant's plan through introspection, or from the directive.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_parley.h"


typedef struct {
    u_char                          color;
    u_char                          dummy;
    ngx_uint_t                      count;
    u_char                          tenant[NGX_HTTP_PARLEY_UUID_LEN];
} ngx_http_parley_streams_node_t;


typedef struct {
    ngx_rbtree_t                    rbtree;
    ngx_rbtree_node_t               sentinel;
} ngx_http_parley_streams_shctx_t;


typedef struct {
    ngx_http_parley_streams_shctx_t *sh;
    ngx_slab_pool_t                 *shpool;
} ngx_http_parley_streams_ctx_t;


typedef struct {
    ngx_shm_zone_t                  *shm_zone;
    ngx_rbtree_node_t               *node;
    ngx_atomic_t                    *active;   /* the status gauge, or NULL */
} ngx_http_parley_streams_cleanup_t;


static ngx_rbtree_node_t *ngx_http_parley_streams_find(
    ngx_http_parley_streams_shctx_t *sh, ngx_rbtree_key_t hash,
    u_char *tenant);
static void ngx_http_parley_streams_cleanup(void *data);
static void ngx_http_parley_streams_rbtree_insert_value(
    ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel);


static ngx_str_t  ngx_http_parley_too_many_streams = ngx_string(
    NGX_HTTP_PARLEY_ERROR("Too many concurrent streams for this tenant; "
                          "retry when one has ended.",
                          "rate_limit_error", "rate_limited"));

static ngx_str_t  ngx_http_parley_streams_unavailable = ngx_string(
    NGX_HTTP_PARLEY_ERROR("The stream limiter is at capacity; "
                          "retry shortly.",
                          "server_error", "limit_unavailable"));

static ngx_str_t  ngx_http_parley_streams_policy = ngx_string("streams");


/*
 * Returns NGX_OK with a slot held until the request ends, NGX_DONE once
 * a refusal was sent, or NGX_ERROR.
 */

ngx_int_t
ngx_http_parley_streams_acquire(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx)
{
    size_t                              size;
    ngx_uint_t                          max;
    ngx_pool_cleanup_t                 *cln;
    ngx_rbtree_key_t                    hash;
    ngx_rbtree_node_t                  *node;
    ngx_http_parley_loc_conf_t         *plcf;
    ngx_http_parley_streams_ctx_t      *sctx;
    ngx_http_parley_streams_node_t     *sn;
    ngx_http_parley_streams_cleanup_t  *sc;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_parley_module);

    max = (ctx->identity.max_streams == NGX_HTTP_PARLEY_UNSET)
          ? plcf->max_streams : (ngx_uint_t) ctx->identity.max_streams;

    /* allocated first: once a slot is taken, it must be given back */

    cln = ngx_pool_cleanup_add(r->pool,
                               sizeof(ngx_http_parley_streams_cleanup_t));
    if (cln == NULL) {
        return NGX_ERROR;
    }

    sctx = plcf->streams_zone->data;
    hash = ngx_murmur_hash2(ctx->identity.tenant, NGX_HTTP_PARLEY_UUID_LEN);

    ngx_shmtx_lock(&sctx->shpool->mutex);

    node = ngx_http_parley_streams_find(sctx->sh, hash, ctx->identity.tenant);

    sn = node ? (ngx_http_parley_streams_node_t *) &node->color : NULL;

    if ((sn ? sn->count : 0) >= max) {
        ngx_shmtx_unlock(&sctx->shpool->mutex);

        ngx_log_error(plcf->limit_log_level, r->connection->log, 0,
                      "parley: limiting streams of tenant %*s to %ui",
                      (size_t) NGX_HTTP_PARLEY_UUID_LEN,
                      ctx->identity.tenant, max);

        ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_STREAMS_LIMITED, 1);

        /* nobody knows when a stream ends: a second is a fair guess */

        ctx->concurrency = 1;
        ctx->rate_policy = ngx_http_parley_streams_policy;
        ctx->rate_quota = max;
        ctx->rate_remaining = 0;
        ctx->rate_reset = 1;

        if (ngx_http_parley_rate_limited(r, 1) != NGX_OK) {
            return NGX_ERROR;
        }

        return ngx_http_parley_send_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                          &ngx_http_parley_too_many_streams);
    }

    if (node == NULL) {

        /* nodes go when their last stream does: nothing idle to evict */

        size = offsetof(ngx_rbtree_node_t, color)
               + sizeof(ngx_http_parley_streams_node_t);

        node = ngx_slab_alloc_locked(sctx->shpool, size);

        if (node == NULL) {
            ngx_shmtx_unlock(&sctx->shpool->mutex);

            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "parley: could not allocate a stream node in "
                          "parley_stream_zone \"%V\", refusing the request",
                          &plcf->streams_zone->shm.name);

            ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_ZONE_FULL, 1);

            return ngx_http_parley_send_error(r,
                                          NGX_HTTP_SERVICE_UNAVAILABLE,
                                          &ngx_http_parley_streams_unavailable);
        }

        node->key = hash;

        sn = (ngx_http_parley_streams_node_t *) &node->color;
        sn->count = 0;
        ngx_memcpy(sn->tenant, ctx->identity.tenant, NGX_HTTP_PARLEY_UUID_LEN);

        ngx_rbtree_insert(&sctx->sh->rbtree, node);
    }

    sn->count++;

    ngx_shmtx_unlock(&sctx->shpool->mutex);

    sc = cln->data;
    sc->shm_zone = plcf->streams_zone;
    sc->node = node;
    sc->active = ngx_http_parley_counter(r, NGX_HTTP_PARLEY_STAT_STREAMS);

    cln->handler = ngx_http_parley_streams_cleanup;

    if (sc->active) {
        (void) ngx_atomic_fetch_add(sc->active, 1);
    }

    ctx->stream = 1;

    return NGX_OK;
}


static ngx_rbtree_node_t *
ngx_http_parley_streams_find(ngx_http_parley_streams_shctx_t *sh,
    ngx_rbtree_key_t hash, u_char *tenant)
{
    ngx_int_t                        rc;
    ngx_rbtree_node_t               *node, *sentinel;
    ngx_http_parley_streams_node_t  *sn;

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

        sn = (ngx_http_parley_streams_node_t *) &node->color;

        rc = ngx_memcmp(tenant, sn->tenant, NGX_HTTP_PARLEY_UUID_LEN);

        if (rc == 0) {
            return node;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/* the request's pool goes away, however the request ended */

static void
ngx_http_parley_streams_cleanup(void *data)
{
    ngx_http_parley_streams_cleanup_t  *sc = data;

    ngx_http_parley_streams_ctx_t   *sctx;
    ngx_http_parley_streams_node_t  *sn;

    sctx = sc->shm_zone->data;
    sn = (ngx_http_parley_streams_node_t *) &sc->node->color;

    ngx_shmtx_lock(&sctx->shpool->mutex);

    sn->count--;

    if (sn->count == 0) {
        ngx_rbtree_delete(&sctx->sh->rbtree, sc->node);
        ngx_slab_free_locked(sctx->shpool, sc->node);
    }

    ngx_shmtx_unlock(&sctx->shpool->mutex);

    if (sc->active) {
        (void) ngx_atomic_fetch_add(sc->active, -1);
    }
}


/* parley_tenant_streams lines of the status page: tenants with streams */

ngx_int_t
ngx_http_parley_streams_status(ngx_http_request_t *r,
    ngx_shm_zone_t *shm_zone, ngx_chain_t ***ll)
{
    size_t                           size;
    ngx_buf_t                       *b;
    ngx_uint_t                       n;
    ngx_chain_t                     *cl;
    ngx_rbtree_node_t               *node, *root, *sentinel;
    ngx_http_parley_streams_ctx_t   *sctx;
    ngx_http_parley_streams_node_t  *sn;

    static u_char  line[] = "parley_tenant_streams{zone=\"\",tenant=\"\"} \n";

    sctx = shm_zone->data;

    ngx_shmtx_lock(&sctx->shpool->mutex);

    root = sctx->sh->rbtree.root;
    sentinel = sctx->sh->rbtree.sentinel;

    n = 0;

    if (root != sentinel) {
        for (node = ngx_rbtree_min(root, sentinel);
             node;
             node = ngx_rbtree_next(&sctx->sh->rbtree, node))
        {
            n++;
        }
    }

    /* one line per tenant with a stream open: bounded by the zone */

    size = n * (sizeof(line) - 1 + shm_zone->shm.name.len
                + NGX_HTTP_PARLEY_UUID_LEN + NGX_INT_T_LEN);

    b = (n == 0) ? NULL : ngx_create_temp_buf(r->pool, size);

    if (n && b == NULL) {
        ngx_shmtx_unlock(&sctx->shpool->mutex);
        return NGX_ERROR;
    }

    if (n) {
        for (node = ngx_rbtree_min(root, sentinel);
             node;
             node = ngx_rbtree_next(&sctx->sh->rbtree, node))
        {
            sn = (ngx_http_parley_streams_node_t *) &node->color;

            b->last = ngx_sprintf(b->last,
                                  "parley_tenant_streams{zone=\"%V\","
                                  "tenant=\"%*s\"} %ui\n",
                                  &shm_zone->shm.name,
                                  (size_t) NGX_HTTP_PARLEY_UUID_LEN,
                                  sn->tenant, sn->count);
        }
    }

    ngx_shmtx_unlock(&sctx->shpool->mutex);

    if (n == 0) {
        return NGX_OK;
    }

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;

    **ll = cl;
    *ll = &cl->next;

    return NGX_OK;
}


static void
ngx_http_parley_streams_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t               **p;
    ngx_http_parley_streams_node_t   *sn, *st;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            sn = (ngx_http_parley_streams_node_t *) &node->color;
            st = (ngx_http_parley_streams_node_t *) &temp->color;

            p = (ngx_memcmp(sn->tenant, st->tenant, NGX_HTTP_PARLEY_UUID_LEN)
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


ngx_int_t
ngx_http_parley_streams_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_parley_streams_ctx_t  *octx = data;

    size_t                          len;
    ngx_http_parley_streams_ctx_t  *sctx;

    sctx = shm_zone->data;

    if (octx) {
        /* reload: the streams of the old workers keep their slots */
        sctx->sh = octx->sh;
        sctx->shpool = octx->shpool;
        return NGX_OK;
    }

    sctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        sctx->sh = sctx->shpool->data;
        return NGX_OK;
    }

    sctx->sh = ngx_slab_alloc(sctx->shpool,
                              sizeof(ngx_http_parley_streams_shctx_t));
    if (sctx->sh == NULL) {
        return NGX_ERROR;
    }

    sctx->shpool->data = sctx->sh;

    ngx_rbtree_init(&sctx->sh->rbtree, &sctx->sh->sentinel,
                    ngx_http_parley_streams_rbtree_insert_value);

    len = sizeof(" in parley_stream_zone \"\"") + shm_zone->shm.name.len;

    sctx->shpool->log_ctx = ngx_slab_alloc(sctx->shpool, len);
    if (sctx->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(sctx->shpool->log_ctx, " in parley_stream_zone \"%V\"%Z",
                &shm_zone->shm.name);

    sctx->shpool->log_nomem = 0;

    return NGX_OK;
}


char *
ngx_http_parley_stream_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ssize_t                         size;
    ngx_str_t                      *value, name;
    ngx_shm_zone_t                 *shm_zone;
    ngx_http_parley_streams_ctx_t  *sctx;

    value = cf->args->elts;

    if (ngx_http_parley_zone_arg(cf, &value[1], &name, &size) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    sctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_parley_streams_ctx_t));
    if (sctx == NULL) {
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

    shm_zone->init = ngx_http_parley_streams_init_zone;
    shm_zone->data = sctx;

    return NGX_CONF_OK;
}


/* parley_streams zone=<name> max=<n>; parley_streams off; */

char *
ngx_http_parley_streams(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_parley_loc_conf_t *plcf = conf;

    ngx_int_t        n;
    ngx_str_t       *value, name;
    ngx_uint_t       i;
    ngx_shm_zone_t  *shm_zone;

    if (plcf->streams_zone != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        plcf->streams_zone = NULL;
        return NGX_CONF_OK;
    }

    shm_zone = NULL;
    n = NGX_ERROR;

    for (i = 1; i < cf->args->nelts; i++) {

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

        if (ngx_strncmp(value[i].data, "max=", 4) == 0) {

            n = ngx_atoi(value[i].data + 4, value[i].len - 4);
            if (n <= 0 || n > NGX_HTTP_PARLEY_MAX_RATE) {
                goto invalid;
            }

            continue;
        }

        goto invalid;
    }

    if (shm_zone == NULL || n == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone\" and \"max\" parameters",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    plcf->streams_zone = shm_zone;
    plcf->max_streams = n;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);

    return NGX_CONF_ERROR;
}
