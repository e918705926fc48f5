
/*
 * Copyright (C) Parley
 *
 * The edge's counters and the "parley_status" handler that shows them in
 * the Prometheus text format.  The counters are atomics in a small shared
 * memory zone (made in ..._shm.c like the module's other zones), so all
 * workers add to the same ones and a reload keeps them.  Per-tenant lines
 * are only those of tenants with a stream open, which the stream zone
 * bounds.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_parley.h"


typedef struct {
    ngx_uint_t                    counter;
    char                         *line;
} ngx_http_parley_metric_t;


static ngx_int_t ngx_http_parley_status_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_parley_status_zones(ngx_http_request_t *r,
    ngx_chain_t ***ll);


static ngx_http_parley_metric_t  ngx_http_parley_metrics[] = {

    { NGX_HTTP_PARLEY_STAT_N,
      "# HELP parley_requests_allowed_total Requests the edge let through, "
      "by credential.\n"
      "# TYPE parley_requests_allowed_total counter\n" },
    { NGX_HTTP_PARLEY_STAT_ALLOWED + NGX_HTTP_PARLEY_AUTH_OFF,
      "parley_requests_allowed_total{credential=\"none\"} " },
    { NGX_HTTP_PARLEY_STAT_ALLOWED + NGX_HTTP_PARLEY_AUTH_SECRET,
      "parley_requests_allowed_total{credential=\"secret\"} " },
    { NGX_HTTP_PARLEY_STAT_ALLOWED + NGX_HTTP_PARLEY_AUTH_WIDGET,
      "parley_requests_allowed_total{credential=\"widget\"} " },
    { NGX_HTTP_PARLEY_STAT_ALLOWED + NGX_HTTP_PARLEY_AUTH_ADMIN,
      "parley_requests_allowed_total{credential=\"admin\"} " },
    { NGX_HTTP_PARLEY_STAT_ALLOWED + NGX_HTTP_PARLEY_AUTH_PUBLIC,
      "parley_requests_allowed_total{credential=\"public\"} " },

    { NGX_HTTP_PARLEY_STAT_N,
      "# HELP parley_requests_refused_total Requests the edge refused, "
      "by reason.\n"
      "# TYPE parley_requests_refused_total counter\n" },
    { NGX_HTTP_PARLEY_STAT_NO_CREDENTIAL,
      "parley_requests_refused_total{reason=\"no_credential\"} " },
    { NGX_HTTP_PARLEY_STAT_INVALID + NGX_HTTP_PARLEY_AUTH_SECRET,
      "parley_requests_refused_total{reason=\"invalid_api_key\"} " },
    { NGX_HTTP_PARLEY_STAT_INVALID + NGX_HTTP_PARLEY_AUTH_WIDGET,
      "parley_requests_refused_total{reason=\"invalid_widget_token\"} " },
    { NGX_HTTP_PARLEY_STAT_INVALID + NGX_HTTP_PARLEY_AUTH_ADMIN,
      "parley_requests_refused_total{reason=\"invalid_admin_token\"} " },
    { NGX_HTTP_PARLEY_STAT_AUTH_UNAVAILABLE,
      "parley_requests_refused_total{reason=\"auth_unavailable\"} " },
    { NGX_HTTP_PARLEY_STAT_RATE_LIMITED + NGX_HTTP_PARLEY_LIMIT_TENANT,
      "parley_requests_refused_total{reason=\"rate_limited_tenant\"} " },
    { NGX_HTTP_PARLEY_STAT_RATE_LIMITED + NGX_HTTP_PARLEY_LIMIT_KEY,
      "parley_requests_refused_total{reason=\"rate_limited_key\"} " },
    { NGX_HTTP_PARLEY_STAT_RATE_LIMITED + NGX_HTTP_PARLEY_LIMIT_SESSION,
      "parley_requests_refused_total{reason=\"rate_limited_session\"} " },
    { NGX_HTTP_PARLEY_STAT_RATE_LIMITED + NGX_HTTP_PARLEY_LIMIT_IP,
      "parley_requests_refused_total{reason=\"rate_limited_ip\"} " },
    { NGX_HTTP_PARLEY_STAT_RATE_LIMITED + NGX_HTTP_PARLEY_LIMIT_LOOKUP,
      "parley_requests_refused_total{reason=\"rate_limited_lookup\"} " },
    { NGX_HTTP_PARLEY_STAT_STREAMS_LIMITED,
      "parley_requests_refused_total{reason=\"too_many_streams\"} " },
    { NGX_HTTP_PARLEY_STAT_ZONE_FULL,
      "parley_requests_refused_total{reason=\"zone_full\"} " },
    { NGX_HTTP_PARLEY_STAT_METHOD,
      "parley_requests_refused_total{reason=\"method_not_allowed\"} " },
    { NGX_HTTP_PARLEY_STAT_MEDIA_TYPE,
      "parley_requests_refused_total{reason=\"unsupported_media_type\"} " },
    { NGX_HTTP_PARLEY_STAT_ORIGIN,
      "parley_requests_refused_total{reason=\"origin_not_allowed\"} " },

    { NGX_HTTP_PARLEY_STAT_N,
      "# HELP parley_dry_run_refusals_total Requests a limit in dry-run "
      "mode would have refused.\n"
      "# TYPE parley_dry_run_refusals_total counter\n" },
    { NGX_HTTP_PARLEY_STAT_DRY_RUN + NGX_HTTP_PARLEY_LIMIT_TENANT,
      "parley_dry_run_refusals_total{limit=\"tenant\"} " },
    { NGX_HTTP_PARLEY_STAT_DRY_RUN + NGX_HTTP_PARLEY_LIMIT_KEY,
      "parley_dry_run_refusals_total{limit=\"key\"} " },
    { NGX_HTTP_PARLEY_STAT_DRY_RUN + NGX_HTTP_PARLEY_LIMIT_SESSION,
      "parley_dry_run_refusals_total{limit=\"session\"} " },
    { NGX_HTTP_PARLEY_STAT_DRY_RUN + NGX_HTTP_PARLEY_LIMIT_IP,
      "parley_dry_run_refusals_total{limit=\"ip\"} " },
    { NGX_HTTP_PARLEY_STAT_DRY_RUN + NGX_HTTP_PARLEY_LIMIT_LOOKUP,
      "parley_dry_run_refusals_total{limit=\"lookup\"} " },

    { NGX_HTTP_PARLEY_STAT_N,
      "# HELP parley_auth_failures_total Missing or invalid credentials.\n"
      "# TYPE parley_auth_failures_total counter\n" },
    { NGX_HTTP_PARLEY_STAT_NO_CREDENTIAL,
      "parley_auth_failures_total{credential=\"missing\"} " },
    { NGX_HTTP_PARLEY_STAT_INVALID + NGX_HTTP_PARLEY_AUTH_SECRET,
      "parley_auth_failures_total{credential=\"secret\"} " },
    { NGX_HTTP_PARLEY_STAT_INVALID + NGX_HTTP_PARLEY_AUTH_WIDGET,
      "parley_auth_failures_total{credential=\"widget\"} " },
    { NGX_HTTP_PARLEY_STAT_INVALID + NGX_HTTP_PARLEY_AUTH_ADMIN,
      "parley_auth_failures_total{credential=\"admin\"} " },

    { NGX_HTTP_PARLEY_STAT_N,
      "# HELP parley_key_cache_lookups_total Key cache lookups of secret "
      "keys and origins; each miss asks the engine.\n"
      "# TYPE parley_key_cache_lookups_total counter\n" },
    { NGX_HTTP_PARLEY_STAT_CACHE_HIT,
      "parley_key_cache_lookups_total{result=\"hit\"} " },
    { NGX_HTTP_PARLEY_STAT_CACHE_MISS,
      "parley_key_cache_lookups_total{result=\"miss\"} " },

    { NGX_HTTP_PARLEY_STAT_N,
      "# HELP parley_active_streams Requests holding a stream slot.\n"
      "# TYPE parley_active_streams gauge\n" },
    { NGX_HTTP_PARLEY_STAT_STREAMS, "parley_active_streams " },

    { 0, NULL }
};


ngx_atomic_t *
ngx_http_parley_counter(ngx_http_request_t *r, ngx_uint_t counter)
{
    ngx_http_parley_zone_t       *zone;
    ngx_http_parley_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_parley_module);

    if (pmcf->status == NULL) {
        return NULL;
    }

    zone = pmcf->status->data;

    return &zone->counters[counter];
}


void
ngx_http_parley_count(ngx_http_request_t *r, ngx_uint_t counter,
    ngx_atomic_int_t n)
{
    ngx_atomic_t  *c;

    c = ngx_http_parley_counter(r, counter);

    if (c) {
        (void) ngx_atomic_fetch_add(c, n);
    }
}


static ngx_int_t
ngx_http_parley_status_handler(ngx_http_request_t *r)
{
    off_t                         len;
    size_t                        size;
    ngx_int_t                     rc;
    ngx_buf_t                    *b;
    ngx_chain_t                  *out, *cl, **ll;
    ngx_http_parley_zone_t       *zone;
    ngx_http_parley_metric_t     *m;
    ngx_http_parley_main_conf_t  *pmcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_parley_module);
    zone = pmcf->status->data;

    size = 0;

    for (m = ngx_http_parley_metrics; m->line; m++) {
        size += ngx_strlen(m->line) + NGX_ATOMIC_T_LEN + 1;
    }

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (m = ngx_http_parley_metrics; m->line; m++) {

        if (m->counter == NGX_HTTP_PARLEY_STAT_N) {
            b->last = ngx_sprintf(b->last, "%s", m->line);
            continue;
        }

        b->last = ngx_sprintf(b->last, "%s%uA\n", m->line,
                              zone->counters[m->counter]);
    }

    out = ngx_alloc_chain_link(r->pool);
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    out->buf = b;
    out->next = NULL;
    ll = &out->next;

    if (ngx_http_parley_status_zones(r, &ll) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = 0;

    for (cl = out; cl; cl = cl->next) {
        len += cl->buf->last - cl->buf->pos;
        cl->buf->memory = 1;

        if (cl->next == NULL) {
            cl->buf->last_buf = (r == r->main) ? 1 : 0;
            cl->buf->last_in_chain = 1;
        }
    }

    ngx_str_set(&r->headers_out.content_type, "text/plain; version=0.0.4");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, out);
}


/*
 * The usage of every zone of the module, in pages of the slab allocator,
 * and the streams per tenant of every stream zone.
 */

static ngx_int_t
ngx_http_parley_status_zones(ngx_http_request_t *r, ngx_chain_t ***ll)
{
    size_t             size;
    ngx_buf_t         *b;
    ngx_uint_t         i, pages, nfree;
    ngx_array_t        zones;
    ngx_chain_t       *cl;
    ngx_list_part_t   *part;
    ngx_shm_zone_t    *shm_zone, **zone;
    ngx_slab_pool_t   *shpool;

    static u_char  head[] =
        "# HELP parley_zone_pages Pages of the module's shared memory "
        "zones.\n"
        "# TYPE parley_zone_pages gauge\n";
    static u_char  line[] =
        "parley_zone_pages{zone=\"\",state=\"free\"} \n";

    static u_char  streams_head[] =
        "# HELP parley_tenant_streams Stream slots held, per tenant with "
        "one.\n"
        "# TYPE parley_tenant_streams gauge\n";

    if (ngx_array_init(&zones, r->pool, 4, sizeof(ngx_shm_zone_t *))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    size = 0;

    part = &((ngx_cycle_t *) ngx_cycle)->shared_memory.part;
    shm_zone = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            shm_zone = part->elts;
            i = 0;
        }

        if (shm_zone[i].tag != &ngx_http_parley_module) {
            continue;
        }

        zone = ngx_array_push(&zones);
        if (zone == NULL) {
            return NGX_ERROR;
        }

        *zone = &shm_zone[i];

        size += 2 * (sizeof(line) - 1 + shm_zone[i].shm.name.len
                     + NGX_INT_T_LEN);
    }

    b = ngx_create_temp_buf(r->pool, sizeof(head) + sizeof(streams_head)
                                     + size);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->last, head, sizeof(head) - 1);

    zone = zones.elts;

    for (i = 0; i < zones.nelts; i++) {
        shpool = (ngx_slab_pool_t *) zone[i]->shm.addr;

        ngx_shmtx_lock(&shpool->mutex);
        pages = shpool->last - shpool->pages;
        nfree = shpool->pfree;
        ngx_shmtx_unlock(&shpool->mutex);

        b->last = ngx_sprintf(b->last,
                              "parley_zone_pages{zone=\"%V\",state=\"used\"} "
                              "%ui\n"
                              "parley_zone_pages{zone=\"%V\",state=\"free\"} "
                              "%ui\n",
                              &zone[i]->shm.name, pages - nfree,
                              &zone[i]->shm.name, nfree);
    }

    b->last = ngx_cpymem(b->last, streams_head, sizeof(streams_head) - 1);

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;

    **ll = cl;
    *ll = &cl->next;

    for (i = 0; i < zones.nelts; i++) {
        if (ngx_http_parley_zone_is(zone[i], NGX_HTTP_PARLEY_ZONE_STREAMS)
            && ngx_http_parley_streams_status(r, zone[i], ll) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


char *
ngx_http_parley_status_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_parley_main_conf_t *pmcf = conf;

    ngx_str_t  *value;

    if (pmcf->status) {
        return "is duplicate";
    }

    value = cf->args->elts;

    pmcf->status = ngx_http_parley_zone_add(cf, &value[1],
                                            NGX_HTTP_PARLEY_ZONE_STATUS);

    return (pmcf->status == NULL) ? NGX_CONF_ERROR : NGX_CONF_OK;
}


/* parley_status; in a location: its content is the status page */

char *
ngx_http_parley_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_parley_main_conf_t *pmcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_parley_status_handler;

    pmcf->status_page = 1;

    return NGX_CONF_OK;
}
