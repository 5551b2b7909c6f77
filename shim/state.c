/*
 * The process-wide state of the shim.  See state.h.
 */
#include "state.h"

struct sg_proc sg_proc;
SG_TLS int sg_tls_vfork_child;
