/* Text for records, without stdio or the heap: numbers, the RFC 3339 time
 * and the UUIDv7 of a record, and the rule that makes any byte string fit
 * a JSON record.
 *
 * A string goes into a record as well-formed UTF-8 or percent-encoded
 * (control bytes, ill-formed UTF-8 and '%'), and is cut to a budget counted
 * in the bytes it takes once serialized (jansson escapes '"' and '\'), so
 * that the caller can bound a whole record before building it. */
#include <string.h>

#include "event-internal.h"

size_t tg_put_dec(char *out, uint64_t v, unsigned width)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v || n < width);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

size_t tg_put_hex(char *out, uint64_t v, unsigned digits)
{
	static const char hex[] = "0123456789abcdef";

	for (unsigned i = 0; i < digits; i++)
		out[i] = hex[(v >> (4 * (digits - 1 - i))) & 15];
	return digits;
}

void tg_put_octal_mode(char out[16], unsigned mode)
{
	char tmp[12];
	size_t n = 0, o = 0;

	do {
		tmp[n++] = (char)('0' + (mode & 7));
		mode >>= 3;
	} while (mode || n < 3);
	out[o++] = '0';
	while (n)
		out[o++] = tmp[--n];
	out[o] = '\0';
}

/* ---- Time and identity ---------------------------------------------------- */

/* Days since 1970-01-01 to a civil date (H. Hinnant, "chrono-Compatible
 * Low-Level Date Algorithms"): gmtime_r may read /etc/localtime. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void tg_put_rfc3339(char out[40], const struct timespec *ts)
{
	int64_t days = ts->tv_sec / 86400, secs = ts->tv_sec % 86400, y;
	unsigned m, d;
	size_t n = 0;

	if (secs < 0)
		secs += 86400, days--;
	civil_from_days(days, &y, &m, &d);
	n += tg_put_dec(out + n, (uint64_t)(y < 0 ? 0 : y), 4);
	out[n++] = '-';
	n += tg_put_dec(out + n, m, 2);
	out[n++] = '-';
	n += tg_put_dec(out + n, d, 2);
	out[n++] = 'T';
	n += tg_put_dec(out + n, (uint64_t)secs / 3600, 2);
	out[n++] = ':';
	n += tg_put_dec(out + n, (uint64_t)secs / 60 % 60, 2);
	out[n++] = ':';
	n += tg_put_dec(out + n, (uint64_t)secs % 60, 2);
	out[n++] = '.';
	n += tg_put_dec(out + n, (uint64_t)ts->tv_nsec, 9);
	out[n++] = 'Z';
	out[n] = '\0';
}

/* The millisecond, the sub-millisecond fraction in rand_a (RFC 9562
 * method 3), then pid and sequence in rand_b: unique per record of a host
 * without a random source. */
void tg_put_uuid7(char out[37], const struct timespec *ts, uint32_t pid, uint32_t seq)
{
	uint64_t ms = (uint64_t)ts->tv_sec * 1000 + (uint64_t)ts->tv_nsec / 1000000;
	uint64_t sub = ((uint64_t)(ts->tv_nsec % 1000000) << 12) / 1000000;
	uint64_t hi = ms << 16 | 0x7000 | sub;
	uint64_t lo = (uint64_t)2 << 62 | (uint64_t)(pid & 0x3fffffff) << 32 | seq;
	size_t n = 0;

	n += tg_put_hex(out + n, hi >> 32, 8);
	out[n++] = '-';
	n += tg_put_hex(out + n, hi >> 16, 4);
	out[n++] = '-';
	n += tg_put_hex(out + n, hi, 4);
	out[n++] = '-';
	n += tg_put_hex(out + n, lo >> 48, 4);
	out[n++] = '-';
	n += tg_put_hex(out + n, lo, 12);
	out[n] = '\0';
}

/* ---- UTF-8, percent-encoding, cutting --------------------------------------- */

/* Length of the well-formed UTF-8 sequence at S (N bytes left), 0 if none:
 * the same rules as jansson (no overlongs, surrogates or > U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

static bool is_ctl(unsigned c)
{
	return c < 0x20 || c == 0x7f;
}

/* Bytes a unit takes in the serialized line: jansson escapes '"' and '\'. */
static size_t json_cost(unsigned c, size_t len)
{
	return c == '"' || c == '\\' ? 2 : len;
}

/* Every byte costs at least one, so nothing past CAP + 4 bytes is ever
 * looked at. */
bool tg_text_needs_percent(const char *s, size_t cap)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strnlen(s, cap + 4), cost = 0;

	for (size_t i = 0; i < n && cost <= cap;) {
		size_t l = utf8_len(u + i, n - i);
		if (l == 0 || (l == 1 && is_ctl(u[i])))
			return true;
		cost += json_cost(u[i], l);
		i += l;
	}
	return false;
}

size_t tg_text_cut_room(size_t n, bool pct, size_t cap)
{
	return (n < cap ? (pct ? 3 * n : n) : cap) + 1;
}

size_t tg_text_cut(const char *s, size_t n, bool pct, size_t cap, char *out, bool *ret_whole)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)s;
	size_t cost = 0, o = 0, i = 0;

	while (i < n) {
		size_t l = utf8_len(u + i, n - i);
		bool enc = l == 0 || (l == 1 && (is_ctl(u[i]) || (pct && u[i] == '%')));
		if (enc && !pct)
			break; /* past the part tg_text_needs_percent looked at: cut here */
		size_t c = enc ? 3 : json_cost(u[i], l);
		if (cost + c > cap)
			break;
		if (enc) {
			out[o++] = '%';
			out[o++] = hex[u[i] >> 4];
			out[o++] = hex[u[i] & 15];
			i++;
		} else {
			memcpy(out + o, s + i, l);
			o += l, i += l;
		}
		cost += c;
	}
	out[o] = '\0';
	*ret_whole = i == n;
	return o;
}

void tg_split_path(const char *path, size_t *ret_dirlen, const char **ret_name, size_t *ret_namelen,
		   bool *ret_has_dir)
{
	if (!path)
		path = "";
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	const char *slash = memrchr(path, '/', n);
	if (n == 1 && path[0] == '/') {
		*ret_name = path, *ret_namelen = 1, *ret_has_dir = false, *ret_dirlen = 0;
	} else if (!slash) {
		*ret_name = path, *ret_namelen = n, *ret_has_dir = false, *ret_dirlen = 0;
	} else {
		*ret_name = slash + 1;
		*ret_namelen = n - (size_t)(slash + 1 - path);
		*ret_has_dir = true;
		*ret_dirlen = slash == path ? 1 : (size_t)(slash - path);
	}
}
