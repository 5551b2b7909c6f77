/*
 * Overlays: a set of keys with their values applied on top of settings, as
 * `sockguard set` does to a running process (tools/sockguard.8, "set").
 * The tool parses each KEY=VALUE here with the policy's own parser, so it
 * accepts and refuses exactly what a policy file would; the shim checks the
 * block it reads from its memory here too, since another process wrote it.
 */
#include "policy_int.h"

#include <string.h>

/*
 * Why a key cannot be changed in a running process (NULL: it can).  A
 * switch rather than a table of pointers, each of which would be one more
 * relocation for the dynamic loader in every process.
 */
const char *sg_key_live_refusal(int key)
{
	switch (key) {
	case SG_KEY_SIGPIPE:
		return "SIGPIPE's disposition is set up when the process "
		       "starts and handed down to every program it runs; "
		       "change it in the policy and restart";
	case SG_KEY_LOG:
		return "the log destination is opened once and shared by "
		       "every thread and child of the process; change it in "
		       "the policy and restart";
	case SG_KEY_LOG_FACILITY:
		return "the lines of one process keep one syslog facility for "
		       "its whole life, so that they are filed in one place; "
		       "change it in the policy and restart";
	case SG_KEY_LOG_FORMAT:
		return "the lines of one process keep one header format for "
		       "its whole life, so that whatever reads them reads them "
		       "all; change it in the policy and restart";
	default:
		return NULL;
	}
}

uint32_t sg_live_refused_keys(void)
{
	uint32_t keys = 0;

	for (int k = 0; k < SG_KEY_COUNT; k++)
		keys |= sg_key_live_refusal(k) ? 1u << k : 0;
	return keys;
}

int sg_settings_parse_pair(const char *text, int *key, struct sg_settings *vals,
			   char *why, size_t whylen)
{
	const char *eq = strchr(text, '=');
	struct sg_fmt b;

	sg_fmt_init_cstr(&b, why, whylen);
	*key = eq ? sg_key_from_name(text, (size_t)(eq - text)) : -1;
	if (!eq || eq == text) {
		sg_fmt_str(&b, "expected KEY=VALUE, not ");
		sg_fmt_quoted(&b, text, strlen(text));
		return -1;
	}
	if (*key < 0) {
		sg_fmt_str(&b, "unknown key ");
		sg_fmt_quoted(&b, text, (size_t)(eq - text));
		return -1;
	}
	sg_fmt_str(&b, sg_key_name(*key));
	sg_fmt_str(&b, ": ");
	if (eq[1] == '\0') {
		sg_fmt_str(&b, "missing value");
		return -1;
	}
	if (sg_key_parse_value(*key, eq + 1, strlen(eq + 1), vals, &b) < 0)
		return -1;
	sg_fmt_init_cstr(&b, why, whylen);
	return 0;
}

void sg_settings_apply(struct sg_settings *dst, uint32_t keys,
		       const struct sg_settings *src)
{
	for (int k = 0; k < SG_KEY_COUNT; k++) {
		if (keys & (1u << k))
			sg_key_copy(k, dst, src);
	}
}

void sg_sock_settings_apply(struct sg_sock_settings *dst, uint32_t keys,
			    const struct sg_settings *src)
{
	for (int k = 0; k < SG_KEY_COUNT; k++) {
		if ((keys & (1u << k)) && sg_key_is_socket(k))
			sg_key_copy_sock(k, dst, src);
	}
}

uint32_t sg_settings_differ(const struct sg_settings *a,
			    const struct sg_settings *b)
{
	uint32_t keys = 0;

	for (int k = 0; k < SG_KEY_COUNT; k++) {
		if (!sg_key_value_equal(k, a, b))
			keys |= 1u << k;
	}
	return keys;
}

int sg_settings_check_live(uint32_t keys, const struct sg_settings *vals)
{
	for (int k = 0; k < SG_KEY_COUNT; k++) {
		if (!(keys & (1u << k)))
			continue;
		if (sg_key_live_refusal(k) || !sg_key_value_valid(k, vals))
			return k;
	}
	return keys >> SG_KEY_COUNT ? SG_KEY_COUNT : -1;
}
