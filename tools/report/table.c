/*
 * The capped hash tables behind `sockguard report`: open addressing over
 * twice as many slots as the cap, so a probe is short and a table can never
 * fill.  Once SG_REPORT_MAX_KEYS keys are in, new keys are refused and the
 * caller counts them as "other": memory stays bounded whatever the input.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#define SLOTS (SG_REPORT_MAX_KEYS * 2)

int sg_report_table_init(struct sg_report_table *t)
{
	memset(t, 0, sizeof(*t));
	t->entries = calloc(SG_REPORT_MAX_KEYS, sizeof(*t->entries));
	t->slots = calloc(SLOTS, sizeof(*t->slots));
	if (!t->entries || !t->slots) {
		sg_report_table_free(t);
		return -1;
	}
	return 0;
}

void sg_report_table_free(struct sg_report_table *t)
{
	for (uint32_t i = 0; t->entries && i < t->count; i++)
		free(t->entries[i].key);
	free(t->entries);
	free(t->slots);
	t->entries = NULL;
	t->slots = NULL;
	t->count = 0;
}

/* FNV-1a: short keys, no need for anything stronger. */
static uint32_t hash_bytes(const char *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

/* The slot holding the key, or the empty slot where it would go. */
static uint32_t *probe(const struct sg_report_table *t, const char *key,
		       size_t len, uint32_t h)
{
	for (uint32_t i = h & (SLOTS - 1);; i = (i + 1) & (SLOTS - 1)) {
		uint32_t s = t->slots[i];
		if (s == 0)
			return &t->slots[i];
		const struct sg_report_entry *e = &t->entries[s - 1];
		if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0)
			return &t->slots[i];
	}
}

struct sg_report_entry *sg_report_table_find(const struct sg_report_table *t,
					     const char *key, size_t len)
{
	if (len > SG_REPORT_MAX_KEY)
		len = SG_REPORT_MAX_KEY;
	uint32_t *slot = probe(t, key, len, hash_bytes(key, len));
	return *slot ? &t->entries[*slot - 1] : NULL;
}

/*
 * The entry for key, added if new; NULL (and *idx -1) when the table is
 * full or out of memory, so the caller counts into t->other instead.
 */
struct sg_report_entry *sg_report_table_get(struct sg_report_table *t,
					    const char *key, size_t len,
					    int32_t *idx)
{
	if (len > SG_REPORT_MAX_KEY)
		len = SG_REPORT_MAX_KEY;
	uint32_t h = hash_bytes(key, len);
	uint32_t *slot = probe(t, key, len, h);
	char *copy;

	if (*slot == 0) {
		if (t->count >= SG_REPORT_MAX_KEYS || !(copy = malloc(len + 1))) {
			t->dropped_keys++;
			*idx = -1;
			return NULL;
		}
		memcpy(copy, key, len);
		copy[len] = 0;
		t->entries[t->count] = (struct sg_report_entry){
			.key = copy, .len = (uint32_t)len, .hash = h,
			.time = SG_REPORT_NO_TIME };
		*slot = ++t->count;
	}
	*idx = (int32_t)(*slot - 1);
	return &t->entries[*slot - 1];
}

static int cmp_total(const void *a, const void *b, void *arg)
{
	const struct sg_report_entry *e = arg;
	const struct sg_report_entry *x = &e[*(const uint32_t *)a];
	const struct sg_report_entry *y = &e[*(const uint32_t *)b];

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Time bucket keys are int64 start times stored as raw bytes. */
static int cmp_time(const void *a, const void *b, void *arg)
{
	const struct sg_report_entry *e = arg;
	int64_t x = sg_report_bucket_time(&e[*(const uint32_t *)a]);
	int64_t y = sg_report_bucket_time(&e[*(const uint32_t *)b]);

	return (x > y) - (x < y);
}

uint32_t *sg_report_table_sorted(const struct sg_report_table *t, int by_key)
{
	uint32_t *order = malloc((t->count + 1) * sizeof(*order));

	if (!order)
		return NULL;
	for (uint32_t i = 0; i < t->count; i++)
		order[i] = i;
	qsort_r(order, t->count, sizeof(*order), by_key ? cmp_time : cmp_total,
		t->entries);
	return order;
}

int64_t sg_report_bucket_time(const struct sg_report_entry *e)
{
	int64_t t;

	memcpy(&t, e->key, sizeof(t));
	return t;
}
