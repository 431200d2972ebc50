#include "config.h"

#include "xml-reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "nodedev/error.h"

typedef struct {
  char *first_fatal;     /* libvirt's catchXMLError text of the first fatal error */
  gboolean entity_declared;
} ReadState;

/* catchXMLError (virxml.c): the offending line, and a pointer line of '-'
 * (tabs kept) up to the column, then '^'. */
static char *
format_fatal (xmlParserCtxt *ctxt, const xmlError *err)
{
  const xmlChar *cur = ctxt->input->cur;
  const xmlChar *base = ctxt->input->base;
  g_autoptr(GString) context = g_string_new (NULL);
  g_autoptr(GString) pointer = g_string_new (NULL);
  gsize col;

  while (cur > base && (*cur == '\n' || *cur == '\r'))
    cur--;
  while (cur > base && *cur != '\n' && *cur != '\r')
    cur--;
  if (*cur == '\n' || *cur == '\r')
    cur++;
  col = (gsize) (ctxt->input->cur - cur);
  while (*cur != 0 && *cur != '\n' && *cur != '\r')
    g_string_append_c (context, (char) *cur++);
  for (gsize n = 0; n < col && n < context->len; n++)
    g_string_append_c (pointer, context->str[n] == '\t' ? '\t' : '-');
  g_string_append_c (pointer, '^');

  if (err->file != NULL)
    return g_strdup_printf ("%s:%d: %s%s\n%s", err->file, err->line,
                            err->message, context->str, pointer->str);
  return g_strdup_printf (_("at line %d: %s%s\n%s"), err->line, err->message,
                          context->str, pointer->str);
}

#if LIBXML_VERSION >= 21200
static void
on_structured_error (void *user_data, const xmlError *err)
#else
static void
on_structured_error (void *user_data, xmlError *err)
#endif
{
  xmlParserCtxt *ctxt = user_data;
  ReadState *state;

  if (ctxt == NULL || ctxt->_private == NULL)
    return;
  state = ctxt->_private;
  if (state->first_fatal != NULL || ctxt->input == NULL ||
      err->level != XML_ERR_FATAL || err->message == NULL)
    return;
  state->first_fatal = format_fatal (ctxt, err);
}

/* The unstructured channels are never used while a structured handler is
 * set; these make sure nothing reaches stderr even if one were. */
static void
on_generic_error (void *ctx, const char *msg, ...)
{
}

static void
on_entity_decl (void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                const xmlChar *system_id, xmlChar *content)
{
  xmlParserCtxt *ctxt = ctx;

  ((ReadState *) ctxt->_private)->entity_declared = TRUE;
  xmlStopParser (ctxt);
}

static void
on_unparsed_entity_decl (void *ctx, const xmlChar *name, const xmlChar *public_id,
                         const xmlChar *system_id, const xmlChar *notation)
{
  on_entity_decl (ctx, name, 0, public_id, system_id, NULL);
}

static gpointer
init_libxml (gpointer data)
{
  xmlInitParser ();
  return NULL;
}

xmlDoc *
hd_xml_read (const char *data, gsize len, const char *url, const char *root,
             GError **error)
{
  static GOnce once = G_ONCE_INIT;
  ReadState state = { 0 };
  xmlParserCtxt *ctxt;
  g_autoptr(xmlDoc) doc = NULL;
  xmlNode *root_node;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (len > HD_XML_READ_MAX)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_XML,
                   _("XML document is too large: %zu bytes, the limit is %d"),
                   len, HD_XML_READ_MAX);
      return NULL;
    }
  g_once (&once, init_libxml, NULL);

  ctxt = xmlNewParserCtxt ();
  if (ctxt == NULL || ctxt->sax == NULL)
    g_error ("out of memory");
  ctxt->_private = &state;
  /* ctxt->sax is this context's own copy of the handler. */
  ctxt->sax->serror = on_structured_error;
  ctxt->sax->error = on_generic_error;
  ctxt->sax->warning = on_generic_error;
  ctxt->sax->fatalError = on_generic_error;
  ctxt->sax->entityDecl = on_entity_decl;
  ctxt->sax->unparsedEntityDecl = on_unparsed_entity_decl;

  doc = xmlCtxtReadMemory (ctxt, data, (int) len, url, NULL,
                           XML_PARSE_NONET | XML_PARSE_NOWARNING);
  ctxt->_private = NULL;
  xmlFreeParserCtxt (ctxt);

  if (state.entity_declared)
    {
      g_free (state.first_fatal);
      g_set_error (error, HD_ERROR, HD_ERROR_XML,
                   _("XML entity declarations are not accepted"));
      return NULL;
    }
  if (doc == NULL)
    {
      if (state.first_fatal != NULL)
        g_set_error_literal (error, HD_ERROR, HD_ERROR_XML, state.first_fatal);
      else
        g_set_error (error, HD_ERROR, HD_ERROR_XML,
                     _("failed to parse xml document '%s'"), url);
      g_free (state.first_fatal);
      return NULL;
    }
  g_free (state.first_fatal);

  if ((root_node = xmlDocGetRootElement (doc)) == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_XML, _("missing root element"));
      return NULL;
    }
  if (root != NULL && !xmlStrEqual (root_node->name, BAD_CAST root))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_XML,
                   _("expecting root element of '%s', not '%s'"),
                   root, (const char *) root_node->name);
      return NULL;
    }
  return g_steal_pointer (&doc);
}

xmlNode *
hd_xml_child (xmlNode *node, const char *name)
{
  if (node == NULL)
    return NULL;
  for (xmlNode *c = node->children; c != NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE && c->ns == NULL &&
        xmlStrEqual (c->name, BAD_CAST name))
      return c;
  return NULL;
}

char *
hd_xml_prop (xmlNode *node, const char *name)
{
  xmlChar *v;
  char *out;

  if (node == NULL)
    return NULL;
  v = xmlGetProp (node, BAD_CAST name);
  if (v == NULL)
    return NULL;
  out = g_strdup ((const char *) v);
  xmlFree (v);
  return out;
}

char *
hd_xml_child_text (xmlNode *node, const char *name)
{
  xmlNode *child = hd_xml_child (node, name);
  xmlChar *v;
  char *out = NULL;

  if (child == NULL)
    return NULL;
  v = xmlNodeGetContent (child);
  if (v != NULL && v[0] != '\0')
    out = g_strdup ((const char *) v);
  xmlFree (v);
  return out;
}

char *
hd_xml_child_attr (xmlNode *node, const char *child, const char *attr)
{
  if (node == NULL)
    return NULL;
  for (xmlNode *c = node->children; c != NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE && c->ns == NULL &&
        xmlStrEqual (c->name, BAD_CAST child) &&
        xmlHasNsProp (c, BAD_CAST attr, NULL) != NULL)
      {
        xmlChar *v = xmlGetNoNsProp (c, BAD_CAST attr);
        char *out = v != NULL && v[0] != '\0' ? g_strdup ((const char *) v) : NULL;

        xmlFree (v);
        return out;
      }
  return NULL;
}

/* ---- libvirt's attribute readers (src/util/virxml.c) -------------------- */

const char *const hd_xml_tristate_bool[] = { "default", "yes", "no", NULL };
const char *const hd_xml_tristate_switch[] = { "default", "on", "off", NULL };

int
hd_xml_enum_index (const char *const *values, const char *s)
{
  for (int i = 0; values[i] != NULL; i++)
    if (g_str_equal (values[i], s))
      return i;
  return -1;
}

int
hd_xml_prop_enum (xmlNode *node, const char *name, const char *const *values,
                  int *out, GError **error)
{
  g_autofree char *v = hd_xml_prop (node, name);
  int i;

  if (v == NULL)
    return 0;
  if ((i = hd_xml_enum_index (values, v)) <= 0)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_XML,
                   _("Invalid value for attribute '%s' in element '%s': '%s'."),
                   name, (const char *) node->name, v);
      return -1;
    }
  *out = i;
  return 1;
}

int
hd_xml_prop_tristate (xmlNode *node, const char *name, const char *const *values,
                      int *out, GError **error)
{
  int i = 0;
  int r = hd_xml_prop_enum (node, name, values, &i, error);

  *out = r == 1 ? (i == 1) : -1;
  return r;
}

/* virStrToLong_uip: strtoul in @base, no '-' anywhere in what it read,
 * nothing after it, and it must fit an unsigned int. */
static gboolean
str_to_uint (const char *s, int base, guint *out)
{
  unsigned long v;
  char *end;

  errno = 0;
  v = strtoul (s, &end, base);
  if (memchr (s, '-', (size_t) (end - s)) != NULL || errno != 0 ||
      *end != '\0' || end == s || (unsigned int) v != v)
    return FALSE;
  *out = (guint) v;
  return TRUE;
}

int
hd_xml_prop_uint (xmlNode *node, const char *name, int base, HdXmlPropFlags flags,
                  guint *out, GError **error)
{
  g_autofree char *v = hd_xml_prop (node, name);

  *out = 0;
  if (v == NULL)
    {
      if (node == NULL || !(flags & HD_XML_PROP_REQUIRED))
        return 0;
      g_set_error (error, HD_ERROR, HD_ERROR_XML,
                   _("Missing required attribute '%s' in element '%s'"),
                   name, (const char *) node->name);
      return -1;
    }
  if (!str_to_uint (v, base, out))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_XML,
                   _("Invalid value for attribute '%s' in element '%s': '%s'. Expected non-negative integer value"),
                   name, (const char *) node->name, v);
      return -1;
    }
  if ((flags & HD_XML_PROP_NONZERO) && *out == 0)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_XML,
                   _("Invalid value for attribute '%s' in element '%s': Zero is not permitted"),
                   name, (const char *) node->name);
      return -1;
    }
  return 1;
}
