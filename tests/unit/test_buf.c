/* test_buf — the capped buffer (cap, growth, sticky errors, take) and the bounded file
 * reader (the limit, a missing file, a directory, an empty file). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ff_buf.h"

static void cap_and_growth(void **state)
{
	(void)state;
	struct ff_buf b;
	ff_buf_init(&b, 10000);
	assert_string_equal(ff_buf_str(&b), "");
	assert_null(b.data); /* init allocates nothing */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(ff_buf_append(&b, "0123456789", 10), 0);
	assert_int_equal(b.len, 10000);
	assert_true(b.cap <= 10001); /* never more than the cap and its NUL */
	assert_int_equal(b.data[b.len], '\0');
	assert_memory_equal(b.data + 9990, "0123456789", 10);
	/* one byte more is too big, and nothing of it is kept */
	assert_int_equal(ff_buf_append(&b, "x", 1), FF_ETOOBIG);
	assert_int_equal(b.len, 10000);
	/* the failure sticks, even for an append that would fit */
	assert_int_equal(ff_buf_append(&b, "", 0), FF_ETOOBIG);
	ff_buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.err, 0);
	assert_int_equal(b.max, 10000);
	assert_int_equal(ff_buf_append(&b, "ab", 2), 0);
	assert_string_equal(ff_buf_str(&b), "ab");
	ff_buf_release(&b);

	/* an append past the cap in one go */
	ff_buf_init(&b, 4);
	assert_int_equal(ff_buf_append(&b, "abc", 3), 0);
	assert_int_equal(ff_buf_append(&b, "de", 2), FF_ETOOBIG);
	assert_string_equal(ff_buf_str(&b), "abc");
	ff_buf_release(&b);
	/* SIZE_MAX as the cap does not wrap */
	ff_buf_init(&b, SIZE_MAX);
	assert_int_equal(ff_buf_append(&b, "a", 1), 0);
	assert_int_equal(ff_buf_append(&b, "a", SIZE_MAX), FF_ETOOBIG);
	ff_buf_release(&b);
	/* reserve makes room without changing the contents */
	ff_buf_init(&b, 100);
	assert_int_equal(ff_buf_reserve(&b, 100), 0);
	assert_true(b.cap >= 101);
	assert_int_equal(b.len, 0);
	assert_int_equal(ff_buf_reserve(&b, 101), FF_ETOOBIG);
	ff_buf_release(&b);
}

static void take(void **state)
{
	(void)state;
	struct ff_buf b;
	size_t len = 99;
	ff_buf_init(&b, 16);
	char *s = ff_buf_take(&b, &len); /* empty: "" */
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
	assert_int_equal(ff_buf_append(&b, "hello", 5), 0);
	s = ff_buf_take(&b, &len);
	assert_string_equal(s, "hello");
	assert_int_equal(len, 5);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(s);
	/* after the cap, what fitted */
	assert_int_equal(ff_buf_append(&b, "0123456789abcdef", 16), 0);
	assert_int_equal(ff_buf_append(&b, "!", 1), FF_ETOOBIG);
	s = ff_buf_take(&b, NULL);
	assert_string_equal(s, "0123456789abcdef");
	assert_int_equal(b.err, 0);
	free(s);
	ff_buf_release(&b);
}

static char *temp_file(const char *content, size_t len)
{
	char tmpl[] = "/tmp/test_buf.XXXXXX";
	int fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
	return strdup(tmpl);
}

/* What a text column cannot hold becomes U+FFFD; what can is copied as is. */
static void append_utf8(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		size_t n;
		const char *out;
	} cases[] = {
	    {"plain", 5, "plain"},
	    {"caf\xc3\xa9", 5, "caf\xc3\xa9"},
	    {"a\xff"
	     "b",
	     3,
	     "a\xef\xbf\xbd"
	     "b"},
	    {"a\0b", 3,
	     "a\xef\xbf\xbd"
	     "b"},							 /* a NUL */
	    {"\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd"},		 /* an overlong '/' */
	    {"\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* a surrogate */
	    {"x\xe2\x9c", 3, "x\xef\xbf\xbd\xef\xbf\xbd"},		 /* cut short */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ff_buf b;
		ff_buf_init(&b, 64);
		assert_int_equal(ff_buf_append_utf8(&b, cases[i].in, cases[i].n), 0);
		assert_string_equal(ff_buf_str(&b), cases[i].out);
		ff_buf_release(&b);
	}
	/* the cap: stops before a character that would not fit, never inside one */
	struct ff_buf b;
	ff_buf_init(&b, 4);
	assert_int_equal(ff_buf_append_utf8(&b, "ab\xff", 3), FF_ETOOBIG);
	assert_string_equal(ff_buf_str(&b), "ab");
	ff_buf_release(&b);
}

static void file_read(void **state)
{
	(void)state;
	struct ff_err err;
	char *buf = NULL;
	size_t len = 0;
	char *p = temp_file("0123456789", 10);

	assert_int_equal(ff_file_read(p, 10, &buf, &len, &err), 0);
	assert_int_equal(len, 10);
	assert_string_equal(buf, "0123456789"); /* NUL-terminated */
	free(buf);
	buf = NULL;
	/* over the limit */
	assert_int_equal(ff_file_read(p, 9, &buf, &len, &err), FF_ETOOBIG);
	assert_non_null(strstr(err.msg, p));
	assert_non_null(strstr(err.msg, "larger than 9 bytes"));
	assert_null(buf);
	unlink(p);
	/* missing */
	assert_int_equal(ff_file_read(p, 100, &buf, &len, &err), FF_ENOTFOUND);
	assert_non_null(strstr(err.msg, p));
	assert_null(buf);
	free(p);
	/* not a regular file */
	assert_int_equal(ff_file_read("/tmp", 100, &buf, &len, &err), FF_EINVAL);
	assert_int_equal(ff_file_read("/dev/null", 100, &buf, &len, &err), FF_EINVAL);
	assert_null(buf);
	/* empty */
	p = temp_file("", 0);
	assert_int_equal(ff_file_read(p, 100, &buf, &len, &err), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
	unlink(p);
	free(p);
	/* larger than one read */
	size_t big = 300 * 1024;
	char *data = malloc(big);
	assert_non_null(data);
	for (size_t i = 0; i < big; i++)
		data[i] = (char)('a' + i % 26);
	p = temp_file(data, big);
	buf = NULL;
	assert_int_equal(ff_file_read(p, big, &buf, &len, &err), 0);
	assert_int_equal(len, big);
	assert_memory_equal(buf, data, big);
	free(buf);
	assert_int_equal(ff_file_read(p, big - 1, &buf, &len, &err), FF_ETOOBIG);
	unlink(p);
	free(p);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cap_and_growth),
	    cmocka_unit_test(take),
	    cmocka_unit_test(file_read),
	    cmocka_unit_test(append_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
