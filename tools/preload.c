/*
 * The parts of `sockguard run` and `sockguard enable` that prepare what the
 * shim reads (see preload.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../policy/policy.h"
#include "preload.h"

/* A key is lower-case letters and underscores, as in SPEC.md section 2. */
static int key_is_wellformed(const char *kv, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if ((kv[i] < 'a' || kv[i] > 'z') && kv[i] != '_')
			return 0;
	}
	return 1;
}

int sg_opts_add(struct sg_opts *o, const char *cmd, const char *kv)
{
	const char *eq = strchr(kv, '=');

	if (!eq || !key_is_wellformed(kv, (size_t)(eq - kv)) || eq[1] == '\0') {
		fprintf(stderr, "%s: -o '%s': expected KEY=VALUE (for example "
			"-o mode=observe)\n", cmd, kv);
		return -1;
	}
	size_t n = strlen(kv);
	char *grown = realloc(o->text, o->len + n + 2);
	if (!grown) {
		fprintf(stderr, "%s: out of memory\n", cmd);
		return -1;
	}
	o->text = grown;
	if (o->len > 0)
		o->text[o->len++] = ':';
	memcpy(o->text + o->len, kv, n + 1);
	o->len += n;
	return 0;
}

int sg_opts_validate(const struct sg_opts *o, const char *cmd)
{
	struct sg_problems *probs = calloc(1, sizeof(*probs));
	struct sg_policy *p = malloc(sg_policy_storage_size());
	int rc = -1;

	if (!probs || !p) {
		fprintf(stderr, "%s: out of memory\n", cmd);
		goto out;
	}
	sg_policy_init(p);
	rc = o->text ? sg_policy_parse_options(p, o->text, probs) : 0;
	unsigned kept = probs->count < SG_PROBLEMS_MAX ? probs->count : SG_PROBLEMS_MAX;
	for (unsigned i = 0; i < kept; i++)
		fprintf(stderr, "%s: -o: %s\n", cmd, probs->text[i]);
	if (rc == 0 && probs->count > 0)
		rc = -1;
out:
	free(p);
	free(probs);
	return rc;
}

void sg_opts_free(struct sg_opts *o)
{
	free(o->text);
	o->text = NULL;
	o->len = 0;
}

int sg_config_path(const char *file, const char *cmd, char *abs, size_t len)
{
	char resolved[PATH_MAX];
	struct stat st;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "%s: -c %s: %s\n", cmd, file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "%s: -c %s: not a regular file\n", cmd, file);
		return -1;
	}
	if (!realpath(file, resolved) || strlen(resolved) >= len) {
		fprintf(stderr, "%s: -c %s: cannot make the path absolute\n",
			cmd, file);
		return -1;
	}
	strcpy(abs, resolved);
	return 0;
}

/* Checks one path component: root-owned, not writable by group or others. */
static int component_trusted(const char *path, char *why, size_t len)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (st.st_uid != 0) {
		snprintf(why, len, "%s is owned by uid %u, not by root", path,
			 (unsigned)st.st_uid);
		return -1;
	}
	int sticky_dir = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX);
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !sticky_dir) {
		snprintf(why, len, "%s is writable by %s", path,
			 (st.st_mode & S_IWOTH) ? "others" : "its group");
		return -1;
	}
	return 0;
}

int sg_lib_trusted(const char *path, char *why, size_t len)
{
	char real[PATH_MAX];

	if (path[0] != '/') {
		snprintf(why, len, "%s is not an absolute path", path);
		return -1;
	}
	if (!realpath(path, real)) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* Walk up from the file itself to "/", cutting one component a time. */
	for (;;) {
		if (component_trusted(real[0] ? real : "/", why, len) < 0)
			return -1;
		if (real[0] == '\0')
			return 0;
		*strrchr(real, '/') = '\0';
	}
}
