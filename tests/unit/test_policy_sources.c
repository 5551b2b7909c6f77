/*
 * Which policy a process uses: the secure-execution rule (AT_SECURE ignores
 * the environment) and the file trust check, both as pure decisions on
 * injected values.
 */
#include "policy_test.h"

#include <sys/stat.h>

static struct stat file_stat(uid_t uid, mode_t perm)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | perm;
	st.st_uid = uid;
	return st;
}

Test(policy_sources, ordinary_processes_use_the_environment)
{
	int use_options = 0;

	cr_assert_str_eq(sg_policy_sources(0, "/tmp/p.conf", &use_options),
			 "/tmp/p.conf");
	cr_assert_eq(use_options, 1);
	cr_assert_str_eq(sg_policy_sources(0, NULL, &use_options),
			 "/etc/sockguard.conf");
	cr_assert_str_eq(sg_policy_sources(0, "", &use_options),
			 "/etc/sockguard.conf", "empty counts as unset");
}

Test(policy_sources, secure_execution_ignores_both_variables)
{
	int use_options = 1;

	cr_assert_str_eq(sg_policy_sources(1, "/tmp/evil.conf", &use_options),
			 SG_POLICY_DEFAULT_PATH);
	cr_assert_eq(use_options, 0);
}

Test(policy_sources, a_private_file_is_trusted_by_ordinary_processes)
{
	struct stat st = file_stat(1000, 0644);
	char why[128];

	cr_assert_eq(sg_policy_file_trusted(&st, 0, why, sizeof(why)), 0);
	st = file_stat(1000, 0600);
	cr_assert_eq(sg_policy_file_trusted(&st, 0, NULL, 0), 0);
}

Test(policy_sources, files_others_can_write_are_refused_always)
{
	static const mode_t bad[] = { 0666, 0664, 0646, 0620, 0602 };
	char why[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (int secure = 0; secure <= 1; secure++) {
			struct stat st = file_stat(0, bad[i]);
			cr_assert_eq(sg_policy_file_trusted(&st, secure, why,
							    sizeof(why)), -1,
				     "mode %o", bad[i]);
			cr_assert(strstr(why, "writable by group or others"));
		}
	}
}

Test(policy_sources, secure_execution_requires_a_root_owned_file)
{
	struct stat st = file_stat(1000, 0644);
	char why[128];

	cr_assert_eq(sg_policy_file_trusted(&st, 1, why, sizeof(why)), -1);
	cr_assert(strstr(why, "not owned by root"));
	st = file_stat(0, 0644);
	cr_assert_eq(sg_policy_file_trusted(&st, 1, why, sizeof(why)), 0);
}

Test(policy_sources, only_regular_files_are_policies)
{
	struct stat st = file_stat(0, 0644);
	char why[8];

	st.st_mode = S_IFDIR | 0755;
	cr_assert_eq(sg_policy_file_trusted(&st, 0, why, sizeof(why)), -1);
	cr_assert_eq(strlen(why), sizeof(why) - 1, "the reason is cut to fit");
}
