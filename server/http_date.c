/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * HTTP-dates.  Formatting is done by hand rather than with strftime() so
 * that day and month names stay English under any locale; parsing accepts
 * the obsolete forms too, as RFC 9110 §5.6.7 requires of recipients.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "http_date.h"

static const char days[7][4] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};
static const char *const long_days[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	"Saturday"
};

/* Format <t> as "Sun, 06 Nov 1994 08:49:37 GMT" into <buf>. */
void
lnt_http_date_format(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "Thu, 01 Jan 1970 00:00:00 GMT");
		return;
	}
	snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The date of the current second; formatted at most once a second. */
const char *
lnt_http_date_now(void)
{
	static char date[LNT_HTTP_DATE_LEN + 1];
	static time_t last = -1;
	time_t now = time(NULL);

	if (now != last) {
		lnt_http_date_format(now, date, sizeof(date));
		last = now;
	}
	return date;
}

/* <n> digits at *<p> (within <end>) as an int, advancing; -1 if not. */
static int
digits(const char **p, const char *end, int n)
{
	int v = 0;

	if (end - *p < n)
		return -1;
	for (; n > 0; n--, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

/* The literal <s> at *<p>, advancing; false if absent. */
static bool
lit(const char **p, const char *end, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(end - *p) < n || memcmp(*p, s, n) != 0)
		return false;
	*p += n;
	return true;
}

static int
month(const char **p, const char *end)
{
	int i;

	if (end - *p < 3)
		return -1;
	for (i = 0; i < 12; i++)
		if (memcmp(*p, months[i], 3) == 0) {
			*p += 3;
			return i;
		}
	return -1;
}

/* "HH:MM:SS" into <tm>. */
static bool
clock_of(const char **p, const char *end, struct tm *tm)
{
	tm->tm_hour = digits(p, end, 2);
	if (tm->tm_hour < 0 || !lit(p, end, ":"))
		return false;
	tm->tm_min = digits(p, end, 2);
	if (tm->tm_min < 0 || !lit(p, end, ":"))
		return false;
	tm->tm_sec = digits(p, end, 2);
	return tm->tm_sec >= 0 && tm->tm_hour < 24 && tm->tm_min < 60 &&
	    tm->tm_sec <= 60;
}

/* The day name at *<p>, short or long, advancing; -1 if none. */
static int
day_name(const char **p, const char *end, bool *is_long)
{
	size_t n;
	int i;

	for (i = 0; i < 7; i++) {
		n = strlen(long_days[i]);
		if ((size_t)(end - *p) >= n &&
		    memcmp(*p, long_days[i], n) == 0) {
			*p += n;
			*is_long = true;
			return i;
		}
		if (end - *p >= 3 && memcmp(*p, days[i], 3) == 0) {
			*p += 3;
			*is_long = false;
			return i;
		}
	}
	return -1;
}

/*
 * Parse an HTTP-date of <len> bytes at <p> into <*t>: 0, or -1 when it is
 * none of the three forms.  The day name is checked for its form only, as
 * a wrong weekday does not make the date ambiguous.
 */
int
lnt_http_date_parse(const char *p, size_t len, time_t *t)
{
	const char *end = p + len;
	struct tm tm;
	bool is_long;
	int year;

	memset(&tm, 0, sizeof(tm));
	if (day_name(&p, end, &is_long) < 0)
		return -1;
	if (!is_long && lit(&p, end, ", ")) {
		/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
		tm.tm_mday = digits(&p, end, 2);
		if (tm.tm_mday < 0 || !lit(&p, end, " ") ||
		    (tm.tm_mon = month(&p, end)) < 0 || !lit(&p, end, " ") ||
		    (year = digits(&p, end, 4)) < 0 || !lit(&p, end, " ") ||
		    !clock_of(&p, end, &tm) || !lit(&p, end, " GMT"))
			return -1;
	} else if (is_long && lit(&p, end, ", ")) {
		/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
		tm.tm_mday = digits(&p, end, 2);
		if (tm.tm_mday < 0 || !lit(&p, end, "-") ||
		    (tm.tm_mon = month(&p, end)) < 0 || !lit(&p, end, "-") ||
		    (year = digits(&p, end, 2)) < 0 || !lit(&p, end, " ") ||
		    !clock_of(&p, end, &tm) || !lit(&p, end, " GMT"))
			return -1;
		/* Two-digit years: the nearest century that is not ahead. */
		year += year < 70 ? 2000 : 1900;
	} else if (!is_long && lit(&p, end, " ")) {
		/* asctime: "Sun Nov  6 08:49:37 1994" */
		if ((tm.tm_mon = month(&p, end)) < 0 || !lit(&p, end, " "))
			return -1;
		if (lit(&p, end, " "))
			tm.tm_mday = digits(&p, end, 1);
		else
			tm.tm_mday = digits(&p, end, 2);
		if (tm.tm_mday < 0 || !lit(&p, end, " ") ||
		    !clock_of(&p, end, &tm) || !lit(&p, end, " ") ||
		    (year = digits(&p, end, 4)) < 0)
			return -1;
	} else {
		return -1;
	}
	if (p != end || tm.tm_mday < 1 || tm.tm_mday > 31 || year < 1970)
		return -1;
	tm.tm_year = year - 1900;
	*t = timegm(&tm);
	return *t == (time_t)-1 ? -1 : 0;
}
