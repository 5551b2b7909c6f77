/*
 * Answering "what are the settings for this program / this socket": the
 * defaults, then every matching section in file order (later wins), then
 * SOCKGUARD_OPTIONS.  Lookups only read the policy and write their output;
 * they never allocate, so the shim may call them on connect and accept.
 */
#include "policy_int.h"

#include <string.h>

#define OPTIONS_SOURCE "SOCKGUARD_OPTIONS"

const char *sg_section_source(const struct sg_policy *p,
			      const struct sg_section *sec)
{
	if (sec->kind == SG_SECTION_OPTIONS)
		return OPTIONS_SOURCE;
	return sec->source < p->nsources ? p->sources[sec->source] : "?";
}

int sg_section_matches_program(const struct sg_section *sec, const char *name,
			       const char *path)
{
	switch (sec->kind) {
	case SG_SECTION_GLOBAL: case SG_SECTION_OPTIONS:
		return 1;
	case SG_SECTION_PROGRAM:
		if (sec->path_glob)
			return path && sg_glob_match(sec->arg, path, 1);
		return name && sg_glob_match(sec->arg, name, 0);
	default:
		return 0;
	}
}

/* Copies every key sec sets into out, noting where it came from. */
static void apply(const struct sg_policy *p, const struct sg_section *sec,
		  struct sg_settings *out, struct sg_origin *origin)
{
	if (!origin) {
		sg_keys_copy(sec->set, out, &sec->vals);
		return;
	}
	for (uint32_t set = sec->set; set; set &= set - 1) {
		int k = __builtin_ctz(set);
		sg_key_copy(k, out, &sec->vals);
		origin[k].source = sg_section_source(p, sec);
		origin[k].line = sec->key_line[k];
	}
}

void sg_policy_for_program(const struct sg_policy *p, const char *name,
			   const char *path, struct sg_settings *out,
			   struct sg_origin *origin)
{
	sg_settings_default(out);
	if (origin)
		memset(origin, 0, SG_KEY_COUNT * sizeof(*origin));
	if (p->failed)
		return;
	for (unsigned i = 0; i < p->nsections; i++) {
		const struct sg_section *sec = &p->sections[i];
		if (sg_section_matches_program(sec, name, path))
			apply(p, sec, out, origin);
	}
	apply(p, &p->options, out, origin);
}

int sg_policy_has_peer_sections(const struct sg_policy *p)
{
	return !p->failed && p->npeers > 0;
}

uint64_t sg_policy_for_peer(const struct sg_policy *p, const char *name,
			    const char *path, const struct sockaddr *peer,
			    socklen_t peerlen, struct sg_sock_settings *out)
{
	struct sg_settings s;
	uint64_t matched = 0;

	sg_settings_default(&s);
	for (unsigned i = 0; !p->failed && i < p->nsections; i++) {
		const struct sg_section *sec = &p->sections[i];
		if (sec->kind != SG_SECTION_PEER) {
			if (sg_section_matches_program(sec, name, path))
				apply(p, sec, &s, NULL);
		} else if (peer && sg_cidr_match(&sec->peer, peer, peerlen)) {
			apply(p, sec, &s, NULL);
			matched |= 1ull << sec->peer_bit;
		}
	}
	if (!p->failed)
		apply(p, &p->options, &s, NULL);
	*out = s.sock;
	return matched;
}

unsigned sg_policy_section_count(const struct sg_policy *p)
{
	return p->failed ? 0 : p->nsections;
}

int sg_policy_section_info(const struct sg_policy *p, unsigned i,
			   struct sg_section_info *out)
{
	if (i >= sg_policy_section_count(p))
		return -1;
	const struct sg_section *sec = &p->sections[i];
	out->kind = sec->kind;
	out->arg = sec->arg;
	out->source = sg_section_source(p, sec);
	out->line = sec->line;
	out->keys = sec->set;
	return 0;
}

int sg_policy_section_matches(const struct sg_policy *p, unsigned i,
			      const char *name, const char *path)
{
	if (i >= sg_policy_section_count(p))
		return 0;
	return sg_section_matches_program(&p->sections[i], name, path);
}
