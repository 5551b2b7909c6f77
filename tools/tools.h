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

#endif
