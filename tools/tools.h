/*
 * The `sockguard` command: one function per subcommand, each taking the
 * arguments after the subcommand name (argv[0] is the subcommand) and
 * returning the exit status.
 */
#ifndef SG_TOOLS_H
#define SG_TOOLS_H

#include <stddef.h>

int sg_cmd_run(int argc, char **argv);
int sg_cmd_check(int argc, char **argv);
int sg_cmd_report(int argc, char **argv);
int sg_cmd_enable(int argc, char **argv);
int sg_cmd_disable(int argc, char **argv);
int sg_cmd_status(int argc, char **argv);
int sg_cmd_metrics(int argc, char **argv);
int sg_cmd_tune(int argc, char **argv);
int sg_cmd_set(int argc, char **argv);
int sg_cmd_audit(int argc, char **argv);

/*
 * The absolute path of libsockguard.so that belongs with this executable:
 * beside it (build tree: build/sockguard and build/libsockguard.so), or in
 * ../lib (installed tree: PREFIX/bin and PREFIX/lib).  Returns 0, or -1 when
 * neither exists.
 */
int sg_tool_find_lib(char *buf, size_t len);

#endif
