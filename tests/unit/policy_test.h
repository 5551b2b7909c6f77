/*
 * Helpers shared by the test_policy_*.c files: parse a policy text into a
 * fresh policy and look at its problems and effective settings.
 */
#ifndef SG_POLICY_TEST_H
#define SG_POLICY_TEST_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../policy/policy.h"

static struct sg_policy *policy;
static struct sg_problems problems;

__attribute__((unused)) static void fresh_policy(void)
{
	if (!policy)
		policy = malloc(sg_policy_storage_size());
	cr_assert_not_null(policy);
	sg_policy_init(policy);
	memset(&problems, 0, sizeof(problems));
}

/* Parses text as the file "t.conf" into a fresh policy. */
__attribute__((unused)) static int parse_text(const char *text)
{
	fresh_policy();
	return sg_policy_parse(policy, text, strlen(text), "t.conf", &problems);
}

/* The one problem expected: its text must start with prefix. */
__attribute__((unused)) static void expect_one_problem(const char *prefix, const char *what)
{
	cr_assert_eq(problems.count, 1, "%s: expected 1 problem, got %u (%s)",
		     what, problems.count,
		     problems.count ? problems.text[0] : "");
	cr_assert(strncmp(problems.text[0], prefix, strlen(prefix)) == 0,
		  "%s: problem '%s' does not start with '%s'", what,
		  problems.text[0], prefix);
}

/* The formatted value of key for program name (NULL: no program). */
__attribute__((unused)) static const char *value_for(const char *name, int key)
{
	static char buf[256];
	struct sg_settings s;

	sg_policy_for_program(policy, name, NULL, &s, NULL);
	sg_settings_format(&s, key, buf, sizeof(buf));
	return buf;
}

#endif
