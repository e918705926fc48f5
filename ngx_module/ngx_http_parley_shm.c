
/*
 * Copyright (C) Parley
 *
 * The shared memory zones of the key cache, the rate limits and the
 * stream slots, in limit_req's manner: a red-black tree of nodes keyed by
 * bytes, with a queue of them, most recently used first, in a slab pool.
 * A node is the tree's node up to its color, then an
 * ngx_http_parley_node_t: the key, then the zone's own value.  Callers
 * lock the pool's mutex around every use but the configuration ones.
 * The status zone's counters are made here too: every zone of the module
 * keeps its kind across reloads.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_parley.h"


/* how many nodes a new one may evict from the queue's end beforehand */
#define NGX_HTTP_PARLEY_ZONE_EXPIRE  2


static void ngx_http_parley_zone_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_int_t ngx_http_parley_zone_init(ngx_shm_zone_t *shm_zone,
    void *data);


/* the directives that make zones, by NGX_HTTP_PARLEY_ZONE_* */

static ngx_str_t  ngx_http_parley_zone_kinds[] = {
    ngx_string("parley_key_cache"),
    ngx_string("parley_limit_zone"),
    ngx_string("parley_stream_zone"),
    ngx_string("parley_status_zone")
};


/*
 * "zone=<name>:<size>" of a zone directive: the zone, or NULL after an
 * error was logged
 */

ngx_shm_zone_t *
ngx_http_parley_zone_add(ngx_conf_t *cf, ngx_str_t *value, ngx_uint_t kind)
{
    ssize_t                  size;
    ngx_str_t                name;
    ngx_shm_zone_t          *shm_zone;
    ngx_http_parley_zone_t  *zone;

    if (ngx_http_parley_zone_arg(cf, value, &name, &size) != NGX_OK) {
        return NULL;
    }

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_parley_zone_t));
    if (zone == NULL) {
        return NULL;
    }

    zone->kind = kind;

    shm_zone = ngx_shared_memory_add(cf, &name, size, &ngx_http_parley_module);
    if (shm_zone == NULL) {
        return NULL;
    }

    if (shm_zone->init) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate zone \"%V\"", &name);
        return NULL;
    }

    shm_zone->init = ngx_http_parley_zone_init;
    shm_zone->data = zone;

    return shm_zone;
}


/* whether a zone that a directive names was made by the "kind" directive */

ngx_uint_t
ngx_http_parley_zone_is(ngx_shm_zone_t *shm_zone, ngx_uint_t kind)
{
    ngx_http_parley_zone_t  *zone;

    if (shm_zone->init != ngx_http_parley_zone_init) {
        return 0;
    }

    zone = shm_zone->data;

    return zone->kind == kind;
}


ngx_rbtree_node_t *
ngx_http_parley_zone_find(ngx_http_parley_zone_t *zone, ngx_rbtree_key_t hash,
    ngx_str_t *key)
{
    ngx_int_t                rc;
    ngx_rbtree_node_t       *node, *sentinel;
    ngx_http_parley_node_t  *pn;

    node = zone->sh->rbtree.root;
    sentinel = zone->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        pn = (ngx_http_parley_node_t *) &node->color;

        rc = ngx_memn2cmp(key->data, pn->data, key->len, (size_t) pn->len);

        if (rc == 0) {
            return node;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/*
 * A new node with "size" bytes of value, most recently used.  The nodes
 * that "idle" lets go make room: up to two of the least recently used
 * ones first, like limit_req; and when the zone is full, as many more
 * as it takes, from the least recently used on.  Without "idle" nothing
 * is evicted.  NULL: the zone is full.
 */

ngx_rbtree_node_t *
ngx_http_parley_zone_insert(ngx_http_parley_zone_t *zone,
    ngx_rbtree_key_t hash, ngx_str_t *key, size_t size,
    ngx_http_parley_zone_idle_pt idle, void *data)
{
    size_t                   n;
    ngx_uint_t               i;
    ngx_queue_t             *q, *prev;
    ngx_rbtree_node_t       *node;
    ngx_http_parley_node_t  *pn;

    n = offsetof(ngx_rbtree_node_t, color)
        + offsetof(ngx_http_parley_node_t, data)
        + ngx_align(key->len, NGX_ALIGNMENT) + size;

    q = ngx_queue_last(&zone->sh->queue);

    for (i = 0; idle && i < NGX_HTTP_PARLEY_ZONE_EXPIRE; i++) {

        if (q == ngx_queue_sentinel(&zone->sh->queue)) {
            break;
        }

        prev = ngx_queue_prev(q);
        pn = ngx_queue_data(q, ngx_http_parley_node_t, queue);

        if (idle(pn, data, 0)) {
            ngx_http_parley_zone_delete(zone, pn);
        }

        q = prev;
    }

    node = ngx_slab_alloc_locked(zone->shpool, n);

    q = ngx_queue_last(&zone->sh->queue);

    while (node == NULL && idle
           && q != ngx_queue_sentinel(&zone->sh->queue))
    {
        prev = ngx_queue_prev(q);
        pn = ngx_queue_data(q, ngx_http_parley_node_t, queue);

        if (idle(pn, data, 1)) {
            ngx_http_parley_zone_delete(zone, pn);
            node = ngx_slab_alloc_locked(zone->shpool, n);
        }

        q = prev;
    }

    if (node == NULL) {
        return NULL;
    }

    node->key = hash;

    pn = (ngx_http_parley_node_t *) &node->color;
    pn->len = (u_char) key->len;
    ngx_memcpy(pn->data, key->data, key->len);

    ngx_rbtree_insert(&zone->sh->rbtree, node);
    ngx_queue_insert_head(&zone->sh->queue, &pn->queue);

    return node;
}


/* the node was used: it goes to the queue's head */

void
ngx_http_parley_zone_touch(ngx_http_parley_zone_t *zone,
    ngx_http_parley_node_t *pn)
{
    ngx_queue_remove(&pn->queue);
    ngx_queue_insert_head(&zone->sh->queue, &pn->queue);
}


void
ngx_http_parley_zone_delete(ngx_http_parley_zone_t *zone,
    ngx_http_parley_node_t *pn)
{
    ngx_rbtree_node_t  *node;

    node = (ngx_rbtree_node_t *)
               ((u_char *) pn - offsetof(ngx_rbtree_node_t, color));

    ngx_queue_remove(&pn->queue);
    ngx_rbtree_delete(&zone->sh->rbtree, node);
    ngx_slab_free_locked(zone->shpool, node);
}


static void
ngx_http_parley_zone_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t       **p;
    ngx_http_parley_node_t   *pn, *pt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            pn = (ngx_http_parley_node_t *) &node->color;
            pt = (ngx_http_parley_node_t *) &temp->color;

            p = (ngx_memn2cmp(pn->data, pt->data, (size_t) pn->len,
                              (size_t) pt->len)
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


/*
 * All of the module's zones have the same tag, so a reload hands a zone
 * of one name and size to whichever directive names it now.  Like
 * limit_req with its key, a zone keeps its kind: one that another
 * directive made before would be read as what it is not (a count as a
 * time, a key cache node as a counter) and is refused.
 */

static ngx_int_t
ngx_http_parley_zone_init(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_parley_zone_t  *ozone = data;

    size_t                   len;
    ngx_str_t               *kind;
    ngx_http_parley_zone_t  *zone;

    zone = shm_zone->data;
    kind = &ngx_http_parley_zone_kinds[zone->kind];

    if (ozone) {

        if (ozone->kind != zone->kind) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "zone \"%V\" is a %V while previously it was a "
                          "%V: rename it, or restart nginx to change it",
                          &shm_zone->shm.name, kind,
                          &ngx_http_parley_zone_kinds[ozone->kind]);
            return NGX_ERROR;
        }

        /* reload: the zone and all it holds live on */
        zone->sh = ozone->sh;
        zone->counters = ozone->counters;
        zone->shpool = ozone->shpool;
        return NGX_OK;
    }

    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        if (zone->kind == NGX_HTTP_PARLEY_ZONE_STATUS) {
            zone->counters = zone->shpool->data;

        } else {
            zone->sh = zone->shpool->data;
        }

        return NGX_OK;
    }

    if (zone->kind == NGX_HTTP_PARLEY_ZONE_STATUS) {
        zone->shpool->data = ngx_slab_calloc(zone->shpool,
                                             NGX_HTTP_PARLEY_STAT_N
                                             * sizeof(ngx_atomic_t));
        if (zone->shpool->data == NULL) {
            return NGX_ERROR;
        }

        zone->counters = zone->shpool->data;

    } else {
        zone->sh = ngx_slab_alloc(zone->shpool,
                                  sizeof(ngx_http_parley_shctx_t));
        if (zone->sh == NULL) {
            return NGX_ERROR;
        }

        zone->shpool->data = zone->sh;

        ngx_rbtree_init(&zone->sh->rbtree, &zone->sh->sentinel,
                        ngx_http_parley_zone_rbtree_insert_value);

        ngx_queue_init(&zone->sh->queue);
    }

    len = sizeof(" in  zone \"\"") + kind->len + shm_zone->shm.name.len;

    zone->shpool->log_ctx = ngx_slab_alloc(zone->shpool, len);
    if (zone->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(zone->shpool->log_ctx, " in %V zone \"%V\"%Z",
                kind, &shm_zone->shm.name);

    zone->shpool->log_nomem = 0;

    return NGX_OK;
}
