/* Between hostdev-xml.c (one device) and hostdev-domain.c (a domain). */
#pragma once

#include <libxml/tree.h>

#include "hostdev-xml.h"

G_BEGIN_DECLS

typedef struct {
  HdHostdev *hostdev;    /* NULL: not a PCI hostdev, skipped */
  gboolean other_type;   /* a guest address type validation will refuse */
  char *why_not;         /* for a skipped one: what it is */
} HdHostdevParsed;

/* virDomainHostdevDefParseXML / the hostdev part of virDomainNetDefParseXML.
 * FALSE with @error set on a parse error; TRUE otherwise, with
 * @out->hostdev NULL for what is not a PCI hostdev. */
gboolean hd_hostdev_parse_hostdev_element (xmlNode *node, HdHostdevParsed *out, GError **error);
gboolean hd_hostdev_parse_interface_element (xmlNode *node, HdHostdevParsed *out, GError **error);

/* virDomainHostdevDefValidate, for PCI: runs after every device parsed. */
gboolean hd_hostdev_parsed_validate (gboolean other_type, GError **error);

void hd_hostdev_parsed_clear (HdHostdevParsed *p);

G_END_DECLS
