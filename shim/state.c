/*
 * The state of the shim.  See state.h.
 */
#include "state.h"

struct sg_proc sg_proc;
SG_TLS struct sg_thread sg_thread = { .write_fd = -1 };
