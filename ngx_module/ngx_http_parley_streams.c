
/*
 * Copyright (C) Parley
 *
 * Concurrent streams per tenant, in limit_conn's model: a slot is taken
 * in the access phase once the tenant is known, and given back by a
 * cleanup of the request's pool, so that every ending returns it:
 * completion, client abort, upstream error, timeout.  The maximum comes
 * from the tenant's plan, through introspection for a secret key and in
 * the signed "pln" of a widget stream id, or from the directive.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_parley.h"


/*
 * A stream node's key is the tenant; its value the count of its streams.
 * A node goes when its last stream does: none is ever idle.
 */

typedef struct {
    ngx_shm_zone_t                  *shm_zone;
    ngx_rbtree_node_t               *node;
    ngx_atomic_t                    *active;   /* the status gauge, or NULL */
} ngx_http_parley_streams_cleanup_t;


static void ngx_http_parley_streams_cleanup(void *data);


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
 * a refusal was sent, or NGX_ERROR.  A request holds one slot at most,
 * in whichever locations it passes through.
 */

ngx_int_t
ngx_http_parley_streams_acquire(ngx_http_request_t *r,
    ngx_http_parley_ctx_t *ctx)
{
    ngx_str_t                           tenant;
    ngx_uint_t                          max, *count;
    ngx_pool_cleanup_t                 *cln;
    ngx_rbtree_key_t                    hash;
    ngx_rbtree_node_t                  *node;
    ngx_http_parley_zone_t             *zone;
    ngx_http_parley_loc_conf_t         *plcf;
    ngx_http_parley_streams_cleanup_t  *sc;

    /*
     * An internal redirect (error_page, a named location, X-Accel-Redirect)
     * zeroes the module's context, and the access phase runs again: like
     * limit_conn, the slot is known by the pool cleanup that gives it
     * back, which lives as long as the request.  Neither a second slot
     * nor a second release.
     */

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_parley_streams_cleanup) {
            ctx->stream = 1;
            return NGX_OK;
        }
    }

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_parley_module);

    max = plcf->max_streams;

    if (ctx->identity.max_streams != NGX_HTTP_PARLEY_UNSET) {

        /*
         * the plan's maximum, from the key cache's shared memory or a
         * verified widget credential; a value neither ever gives allows
         * no stream rather than many
         */

        max = (ctx->identity.max_streams >= 0
               && ctx->identity.max_streams <= NGX_HTTP_PARLEY_MAX_RATE)
              ? (ngx_uint_t) ctx->identity.max_streams : 0;
    }

    /* allocated first: once a slot is taken, it must be given back */

    cln = ngx_pool_cleanup_add(r->pool,
                               sizeof(ngx_http_parley_streams_cleanup_t));
    if (cln == NULL) {
        return NGX_ERROR;
    }

    zone = plcf->streams_zone->data;

    tenant.len = NGX_HTTP_PARLEY_UUID_LEN;
    tenant.data = ctx->identity.tenant;

    hash = ngx_murmur_hash2(tenant.data, tenant.len);

    ngx_shmtx_lock(&zone->shpool->mutex);

    node = ngx_http_parley_zone_find(zone, hash, &tenant);

    count = node ? ngx_http_parley_node_value(
                       (ngx_http_parley_node_t *) &node->color)
                 : NULL;

    if ((count ? *count : 0) >= max) {
        ngx_shmtx_unlock(&zone->shpool->mutex);

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

        node = ngx_http_parley_zone_insert(zone, hash, &tenant,
                                           sizeof(ngx_uint_t), NULL, NULL);

        if (node == NULL) {
            ngx_shmtx_unlock(&zone->shpool->mutex);

            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "parley: could not allocate a stream node in "
                          "parley_stream_zone \"%V\", refusing the request",
                          &plcf->streams_zone->shm.name);

            ngx_http_parley_count(r, NGX_HTTP_PARLEY_STAT_ZONE_FULL, 1);

            return ngx_http_parley_send_error(r,
                                          NGX_HTTP_SERVICE_UNAVAILABLE,
                                          &ngx_http_parley_streams_unavailable);
        }

        count = ngx_http_parley_node_value(
                    (ngx_http_parley_node_t *) &node->color);
        *count = 0;
    }

    (*count)++;

    ngx_shmtx_unlock(&zone->shpool->mutex);

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


/* the request's pool goes away, however the request ended */

static void
ngx_http_parley_streams_cleanup(void *data)
{
    ngx_http_parley_streams_cleanup_t  *sc = data;

    ngx_uint_t              *count;
    ngx_http_parley_node_t  *pn;
    ngx_http_parley_zone_t  *zone;

    zone = sc->shm_zone->data;
    pn = (ngx_http_parley_node_t *) &sc->node->color;
    count = ngx_http_parley_node_value(pn);

    ngx_shmtx_lock(&zone->shpool->mutex);

    /* the last slot takes the node with it; a count never wraps */

    if (*count > 1) {
        (*count)--;

    } else {
        ngx_http_parley_zone_delete(zone, pn);
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    if (sc->active) {
        (void) ngx_atomic_fetch_add(sc->active, -1);
    }
}


/* parley_tenant_streams lines of the status page: tenants with streams */

ngx_int_t
ngx_http_parley_streams_status(ngx_http_request_t *r,
    ngx_shm_zone_t *shm_zone, ngx_chain_t ***ll)
{
    size_t                   size;
    ngx_buf_t               *b;
    ngx_uint_t               n;
    ngx_chain_t             *cl;
    ngx_rbtree_node_t       *node, *root, *sentinel;
    ngx_http_parley_node_t  *pn;
    ngx_http_parley_zone_t  *zone;

    static u_char  line[] = "parley_tenant_streams{zone=\"\",tenant=\"\"} \n";

    zone = shm_zone->data;

    ngx_shmtx_lock(&zone->shpool->mutex);

    root = zone->sh->rbtree.root;
    sentinel = zone->sh->rbtree.sentinel;

    n = 0;
    size = 0;

    /*
     * one line per tenant with a stream open: bounded by the zone; sized
     * by the keys the zone holds, whatever they are
     */

    if (root != sentinel) {
        for (node = ngx_rbtree_min(root, sentinel);
             node;
             node = ngx_rbtree_next(&zone->sh->rbtree, node))
        {
            pn = (ngx_http_parley_node_t *) &node->color;

            size += sizeof(line) - 1 + shm_zone->shm.name.len + pn->len
                    + NGX_INT_T_LEN;
            n++;
        }
    }

    b = (n == 0) ? NULL : ngx_create_temp_buf(r->pool, size);

    if (n && b == NULL) {
        ngx_shmtx_unlock(&zone->shpool->mutex);
        return NGX_ERROR;
    }

    if (n) {
        for (node = ngx_rbtree_min(root, sentinel);
             node;
             node = ngx_rbtree_next(&zone->sh->rbtree, node))
        {
            pn = (ngx_http_parley_node_t *) &node->color;

            b->last = ngx_sprintf(b->last,
                                  "parley_tenant_streams{zone=\"%V\","
                                  "tenant=\"%*s\"} %ui\n",
                                  &shm_zone->shm.name, (size_t) pn->len,
                                  pn->data,
                                  *(ngx_uint_t *)
                                      ngx_http_parley_node_value(pn));
        }
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

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


char *
ngx_http_parley_stream_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t  *value;

    value = cf->args->elts;

    if (ngx_http_parley_zone_add(cf, &value[1], NGX_HTTP_PARLEY_ZONE_STREAMS)
        == NULL)
    {
        return NGX_CONF_ERROR;
    }

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
