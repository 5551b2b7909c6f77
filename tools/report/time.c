/*
 * Timestamps for `sockguard report`: RFC 3164 ("Nov 25 19:20:51", no year,
 * local time), ISO 8601 / RFC 3339 with or without a zone, and the
 * --since/--until arguments.  Parsing is done by hand because sscanf and
 * strptime cost more than the whole rest of a line, and mktime() is called
 * at most once per hour of log by caching the start of the current hour.
 */
#include "report.h"

#include <string.h>

static int64_t report_now = SG_REPORT_NO_TIME;
static int now_year;

void sg_report_set_now(int64_t now)
{
	time_t t = (time_t)now;
	struct tm tm;

	report_now = now;
	now_year = localtime_r(&t, &tm) ? tm.tm_year + 1900 : 1970;
}

int64_t sg_report_now(void)
{
	if (report_now == SG_REPORT_NO_TIME)
		sg_report_set_now((int64_t)time(NULL));
	return report_now;
}

/* Days from 1970-01-01 to a proleptic Gregorian date, eras of 400 years. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * Local wall-clock time to seconds since the epoch.  The start of the hour
 * comes from mktime() (so daylight saving is right) and is cached, since
 * log lines arrive in order and share their hour.
 */
int64_t sg_report_local_epoch(int year, int mon, int mday, int hour,
			      int min, int sec)
{
	static int c_year = -1, c_mon, c_mday, c_hour;
	static int64_t c_base;

	if (year != c_year || mon != c_mon || mday != c_mday || hour != c_hour) {
		struct tm tm = { .tm_year = year - 1900, .tm_mon = mon - 1,
				 .tm_mday = mday, .tm_hour = hour, .tm_isdst = -1 };
		time_t base = mktime(&tm);
		if (base == (time_t)-1)
			base = (time_t)(days_from_civil(year, mon, mday) * 86400 +
					hour * 3600);
		c_year = year, c_mon = mon, c_mday = mday, c_hour = hour;
		c_base = (int64_t)base;
	}
	return c_base + min * 60 + sec;
}

/* Reads exactly `width` digits; -1 when one is missing. */
static int digits(const char *s, size_t n, size_t width)
{
	int v = 0;

	if (n < width)
		return -1;
	for (size_t i = 0; i < width; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int month_from_name(const char *s)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	for (int i = 0; i < 12; i++) {
		if (memcmp(names + 3 * i, s, 3) == 0)
			return i + 1;
	}
	return -1;
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/*
 * Whether the date names a real day within the years a log can hold: a
 * date mktime() would normalise (Feb 30, Feb 29 of a common year) is not.
 */
static int date_ok(int y, int mon, int mday)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (y < SG_REPORT_MIN_YEAR || y > SG_REPORT_MAX_YEAR || mon < 1 || mon > 12)
		return 0;
	return mday >= 1 && mday <= days[mon - 1] + (mon == 2 && is_leap(y));
}

/*
 * "hh:mm:ss" then an optional fraction; returns the bytes used, 0 when the
 * text does not have that shape.  *ok says whether the values are a time of
 * day: 24:00, 12:60 and 23:59:60 are not (there has been no leap second
 * since 2016, and a log line is not where one would be told apart).
 */
static size_t parse_clock(const char *s, size_t n, int *h, int *m, int *sec,
			  int seconds_optional, int *ok)
{
	size_t i = 5;

	*h = digits(s, n, 2);
	*m = n >= 5 && s[2] == ':' ? digits(s + 3, n - 3, 2) : -1;
	*sec = 0;
	if (*h < 0 || *m < 0)
		return 0;
	if (n >= 8 && s[5] == ':') {
		*sec = digits(s + 6, n - 6, 2);
		if (*sec < 0)
			return 0;
		i = 8;
	} else if (!seconds_optional) {
		return 0;
	}
	if (i < n && (s[i] == '.' || s[i] == ',')) {
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	*ok = *h <= 23 && *m <= 59 && *sec <= 59;
	return i;
}

/*
 * "Mmm dd hh:mm:ss[.frac]", day space-padded or not.  RFC 3164 has no year:
 * the current one is taken, or the previous one when that would put the
 * line more than a day in the future (a day of slack for clocks and zones
 * that differ between hosts).  A day the month does not have in that year
 * is SG_REPORT_BAD_TIME.
 */
size_t sg_report_parse_bsd_time(const char *s, size_t n, int64_t *t)
{
	int mon, mday, h, m, sec, ok;
	size_t i = 4;

	if (n < 15 || s[3] != ' ' || (mon = month_from_name(s)) < 0)
		return 0;
	if (s[i] == ' ')
		i++;
	if (s[i] < '0' || s[i] > '9')
		return 0;
	mday = s[i++] - '0';
	if (s[i] >= '0' && s[i] <= '9')
		mday = mday * 10 + (s[i++] - '0');
	if (s[i] != ' ')
		return 0;
	i++;
	size_t used = parse_clock(s + i, n - i, &h, &m, &sec, 0, &ok);
	if (used == 0)
		return 0;
	int64_t now = sg_report_now();
	int year = now_year;
	if (ok && date_ok(year, mon, mday) &&
	    sg_report_local_epoch(year, mon, mday, h, m, sec) > now + 86400)
		year--;
	if (!ok || !date_ok(year, mon, mday))
		*t = SG_REPORT_BAD_TIME;
	else
		*t = sg_report_local_epoch(year, mon, mday, h, m, sec);
	return i + used;
}

/* "Z", "+hh:mm", "+hhmm" or "+hh"; the offset east of UTC in seconds. */
static size_t parse_zone(const char *s, size_t n, int *off)
{
	if (n >= 1 && (s[0] == 'Z' || s[0] == 'z')) {
		*off = 0;
		return 1;
	}
	if (n < 3 || (s[0] != '+' && s[0] != '-'))
		return 0;
	int sign = s[0] == '-' ? -1 : 1;
	int hh = digits(s + 1, n - 1, 2), mm = 0;
	size_t used = 3;
	if (n >= 6 && s[3] == ':' && (mm = digits(s + 4, n - 4, 2)) >= 0)
		used = 6;
	else if ((mm = digits(s + 3, n - 3, 2)) >= 0)
		used = 5;
	else
		mm = 0;
	if (hh < 0 || hh > 23 || mm > 59)
		return 0;
	*off = sign * (hh * 3600 + mm * 60);
	return used;
}

/*
 * "YYYY-MM-DD[T ]hh:mm[:ss][.frac][zone]".  Without a zone the time is
 * local, as journalctl and rsyslog print it when told no zone.  A date or
 * time that does not exist is SG_REPORT_BAD_TIME.
 */
size_t sg_report_parse_iso_time(const char *s, size_t n, int64_t *t)
{
	int y = digits(s, n, 4), mon, mday, h, m, sec, off, ok;

	if (y < 0 || n < 16 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != ' '))
		return 0;
	mon = digits(s + 5, n - 5, 2);
	mday = digits(s + 8, n - 8, 2);
	if (mon < 0 || mday < 0)
		return 0;
	size_t i = 11, used = parse_clock(s + i, n - i, &h, &m, &sec, 1, &ok);
	if (used == 0)
		return 0;
	i += used;
	size_t zone = parse_zone(s + i, n - i, &off);
	if (!ok || !date_ok(y, mon, mday))
		*t = SG_REPORT_BAD_TIME;
	else if (zone == 0)
		*t = sg_report_local_epoch(y, mon, mday, h, m, sec);
	else
		*t = days_from_civil(y, mon, mday) * 86400 + h * 3600 + m * 60 +
		     sec - off;
	return i + zone;
}

/* "-2h", "-30m", "-1d", "-90s", "-1w": that long before now. */
static int parse_relative(const char *s, int64_t now, int64_t *t)
{
	int64_t v = 0;
	size_t i = 1;

	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > INT64_C(1) << 40)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 1 || s[i + (s[i] != 0)] != 0)
		return -1;
	switch (s[i]) {
	case 's': break;
	case 'm': v *= 60; break;
	case 'h': v *= 3600; break;
	case 'd': v *= 86400; break;
	case 'w': v *= 7 * 86400; break;
	default: return -1;
	}
	*t = now - v;
	return 0;
}

int sg_report_parse_when(const char *s, int64_t now, int64_t *t)
{
	size_t n = strlen(s);

	if (n == 0)
		return -1;
	if (s[0] == '-')
		return parse_relative(s, now, t);
	if (strcmp(s, "now") == 0) {
		*t = now;
		return 0;
	}
	if (n == 10) {
		char buf[17];
		memcpy(buf, s, 10);
		memcpy(buf + 10, "T00:00", 7);
		return sg_report_parse_iso_time(buf, 16, t) == 16 &&
		       *t != SG_REPORT_BAD_TIME ? 0 : -1;
	}
	return sg_report_parse_iso_time(s, n, t) == n &&
	       *t != SG_REPORT_BAD_TIME ? 0 : -1;
}

void sg_report_fmt_time(char *buf, size_t len, int64_t t, int with_seconds)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm) ||
	    !strftime(buf, len, with_seconds ? "%Y-%m-%d %H:%M:%S" :
		      "%Y-%m-%d %H:%M", &tm))
		snprintf(buf, len, "@%lld", (long long)t);
}

/* RFC 3339 in local time with a numeric offset, e.g. 2026-11-25T19:20:00+01:00. */
void sg_report_fmt_iso(char *buf, size_t len, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char date[32];

	if (!localtime_r(&tt, &tm) ||
	    !strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(buf, len, "@%lld", (long long)t);
		return;
	}
	long off = tm.tm_gmtoff;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	snprintf(buf, len, "%s%c%02ld:%02ld", date, sign, off / 3600,
		 off / 60 % 60);
}
