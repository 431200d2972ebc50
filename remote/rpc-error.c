#include "config.h"

#include "rpc-error.h"

#include "nodedev/error.h"
#include "rpc-protocol.h"

void
hd_rpc_error_clear (HdRpcError *e)
{
  g_clear_pointer (&e->message, g_free);
}

/* virerror.c virErrorMsg(): the prefix each code puts before the text. */
static const char *
prefix_for (int code)
{
  switch (code)
    {
    case VIR_ERR_INTERNAL_ERROR: return "internal error: %s";
    case VIR_ERR_NO_SUPPORT: return "this function is not supported by the connection driver: %s";
    case VIR_ERR_NO_CONNECT: return "no connection driver available for %s";
    case VIR_ERR_INVALID_ARG: return "invalid argument: %s";
    case VIR_ERR_OPERATION_FAILED: return "operation failed: %s";
    case VIR_ERR_OPERATION_DENIED: return "operation forbidden: %s";
    case VIR_ERR_NO_NODE_DEVICE: return "Node device not found: %s";
    case VIR_ERR_OPERATION_INVALID: return "Requested operation is not valid: %s";
    case VIR_ERR_ARGUMENT_UNSUPPORTED: return "argument unsupported: %s";
    case VIR_ERR_OPERATION_TIMEOUT: return "Timed out during operation: %s";
    case VIR_ERR_RESOURCE_BUSY: return "resource busy: %s";
    case VIR_ERR_ACCESS_DENIED: return "access denied: %s";
    case VIR_ERR_XML_ERROR: return "XML error: %s";
    case VIR_ERR_CONFIG_UNSUPPORTED: return "unsupported configuration: %s";
    default: return "%s";   /* VIR_ERR_RPC, VIR_ERR_SYSTEM_ERROR, … */
    }
}

void
hd_rpc_error_set (HdRpcError *e, int code, int domain, const char *format, ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  g_free (e->message);
  e->code = code;
  e->domain = domain;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  /* The prefixes are fixed strings from the table above. */
  e->message = g_strdup_printf (prefix_for (code), text);
#pragma GCC diagnostic pop
}

void
hd_rpc_error_from_gerror (HdRpcError *e, const GError *error)
{
  int code = VIR_ERR_INTERNAL_ERROR;

  if (error->domain == HD_ERROR)
    {
      switch ((HdError) error->code)
        {
        case HD_ERROR_NO_DEVICE: code = VIR_ERR_NO_NODE_DEVICE; break;
        case HD_ERROR_INVALID_ARGUMENT: code = VIR_ERR_INVALID_ARG; break;
        case HD_ERROR_NOT_SUPPORTED: code = VIR_ERR_NO_SUPPORT; break;
        case HD_ERROR_ARGUMENT_UNSUPPORTED: code = VIR_ERR_ARGUMENT_UNSUPPORTED; break;
        case HD_ERROR_IN_USE: code = VIR_ERR_OPERATION_INVALID; break;
        case HD_ERROR_BUSY: code = VIR_ERR_RESOURCE_BUSY; break;
        case HD_ERROR_TIMED_OUT: code = VIR_ERR_OPERATION_TIMEOUT; break;
        case HD_ERROR_SYSTEM: code = VIR_ERR_SYSTEM_ERROR; break;
        case HD_ERROR_NOT_AUTHORIZED: code = VIR_ERR_ACCESS_DENIED; break;
        case HD_ERROR_XML: code = VIR_ERR_XML_ERROR; break;
        case HD_ERROR_CONFIG_UNSUPPORTED: code = VIR_ERR_CONFIG_UNSUPPORTED; break;
        case HD_ERROR_FAILED:
        case HD_ERROR_INVALID_DATA:
        default: code = VIR_ERR_INTERNAL_ERROR; break;
        }
    }
  hd_rpc_error_set (e, code, VIR_FROM_NODEDEV, "%s", error->message);
}
