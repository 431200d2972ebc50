#include "config.h"

#include "error.h"

G_DEFINE_QUARK (hostdevd-error-quark, hd_error)
