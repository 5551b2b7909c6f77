/* Internal to the fixture library: shared between its files only. */
#ifndef FX_INT_H
#define FX_INT_H

/* Records why a fixture failed; returns -1 so callers can `return`. */
int fx__fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
