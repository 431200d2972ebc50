/* Between domain-source.c (main loop, GObject) and domain-source-libvirt.c
 * (the libvirt client: one worker thread per URI). */
#pragma once

#include "domain-source.h"

G_BEGIN_DECLS

typedef enum {
  HD_DS_CONNECTED,     /* uri */
  HD_DS_DISCONNECTED,  /* uri, reason */
  HD_DS_DOMAIN,        /* domain: new or maybe changed */
  HD_DS_REMOVED,       /* uri, uuid */
  HD_DS_SYNC,          /* uri, all: every domain of the URI now */
} HdDsResultKind;

typedef struct {
  HdDsResultKind kind;
  char *uri;
  char *reason;
  char *uuid;
  HdDomain *domain;
  GPtrArray *all;      /* HdDomain* */
} HdDsResult;

void hd_ds_result_free (HdDsResult *r);

HdDomain *hd_domain_new (const char *uri, const char *name, const char *uuid);

/* Called on the worker's thread; takes @r. */
typedef void (*HdDsDeliver) (HdDsResult *r, gpointer data);

typedef struct _HdDsWorker HdDsWorker;

/* Starts the worker thread for @uri; @deliver/@data are used on it until
 * it ends, then @notify (@data) is called there. */
HdDsWorker *hd_ds_worker_start (const char *uri, guint poll_ms, HdDsDeliver deliver,
                                gpointer data, GDestroyNotify notify);
/* Asks it to close its connection and end; does not wait (it may be
 * blocked in libvirt), and releases @w. */
void hd_ds_worker_stop (HdDsWorker *w);

G_END_DECLS
