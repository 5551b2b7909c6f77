/*
 * libFuzzer target for the policy parser: the input is parsed as a policy
 * file and as SOCKGUARD_OPTIONS, then looked up the way the shim and
 * `sockguard check` do, so that matching and formatting run on whatever the
 * parser accepted.  Any crash, sanitizer report or broken invariant aborts.
 *
 * fuzz-sources: policy/*.c
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../policy/policy.h"

static struct sg_policy *policy;
static struct sg_problems problems;

/* Checks what every lookup promises, whatever the input was. */
static void look_up(const char *name, const char *path)
{
	struct sg_settings s;
	struct sg_origin origin[SG_KEY_COUNT];
	struct sg_sock_settings sock;
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(443) };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(80) };
	char buf[256];

	sg_policy_for_program(policy, name, path, &s, origin);
	for (int k = 0; k < SG_KEY_COUNT; k++) {
		sg_settings_format(&s, k, buf, sizeof(buf));
		if (strlen(buf) >= sizeof(buf))
			abort();
	}
	inet_pton(AF_INET, "10.1.2.3", &in.sin_addr);
	inet_pton(AF_INET6, "::ffff:10.1.2.3", &in6.sin6_addr);
	sg_policy_for_peer(policy, name, path, (struct sockaddr *)&in,
			   sizeof(in), &sock);
	sg_policy_for_peer(policy, name, path, (struct sockaddr *)&in6,
			   sizeof(in6), &sock);
	if (sock.log_kind == SG_LOG_UNIX &&
	    strnlen(sock.log_path, SG_LOG_PATH_MAX) == SG_LOG_PATH_MAX)
		abort();
}

static void check_problems(int rc)
{
	unsigned kept = problems.count < SG_PROBLEMS_MAX ? problems.count :
							   SG_PROBLEMS_MAX;

	if ((rc < 0) != (problems.count > 0))
		abort();
	for (unsigned i = 0; i < kept; i++) {
		if (strnlen(problems.text[i], SG_PROBLEM_LEN) == SG_PROBLEM_LEN)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (!policy)
		policy = malloc(sg_policy_storage_size());
	if (!text || !policy)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	sg_policy_init(policy);
	problems.count = 0;
	check_problems(sg_policy_parse(policy, text, size, "fuzz.conf",
				       &problems));
	look_up("nginx", "/usr/sbin/nginx");
	look_up(text, text);	/* the input as a program name and path */

	sg_policy_init(policy);
	problems.count = 0;
	check_problems(sg_policy_parse_options(policy, text, &problems));
	look_up("curl", NULL);
	free(text);
	return 0;
}
