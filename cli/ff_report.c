/* ff_report — JUnit XML and CSV from findings, and atomic report files; see ff_report.h. */
#include "ff_report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ff_format.h"
#include "ff_util.h"

/* How many bytes the character at p (left > 0 bytes) takes; *ok false when it is to be
 * written as '?': not well-formed UTF-8, a control character other than tab, LF and CR, DEL,
 * or the non-characters U+FFFE and U+FFFF, which XML 1.0 refuses. */
static size_t next_char(const unsigned char *p, size_t left, bool *ok)
{
	size_t n = ff_utf8_seq_len(p, left);
	*ok = true;
	if (n == 0) {
		*ok = false;
		return 1;
	}
	if (n == 1 &&
	    ((p[0] < 0x20 && p[0] != '\t' && p[0] != '\n' && p[0] != '\r') || p[0] == 0x7f))
		*ok = false;
	if (n == 3 && p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf))
		*ok = false;
	return n;
}

void ff_report_xml_text(FILE *f, const char *s, bool attr)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = s ? strlen(s) : 0;
	while (left) {
		bool ok;
		size_t n = next_char(p, left, &ok);
		if (!ok) {
			fputc('?', f);
		} else if (n > 1) {
			fwrite(p, 1, n, f);
		} else {
			switch (*p) {
			case '&': fputs("&amp;", f); break;
			case '<': fputs("&lt;", f); break;
			case '>': fputs("&gt;", f); break; /* "]]>" may not appear in text */
			case '"': fputs(attr ? "&quot;" : "\"", f); break;
			case '\t': fputs(attr ? "&#9;" : "\t", f); break;
			case '\n': fputs(attr ? "&#10;" : "\n", f); break;
			case '\r': fputs("&#13;", f); break; /* a parser reads a raw CR as LF */
			default: fputc(*p, f);
			}
		}
		p += n;
		left -= n;
	}
}

void ff_report_csv_field(FILE *f, const char *s)
{
	if (!s || !*s)
		return;
	bool formula = strchr("=+-@\t\r", s[0]) != NULL;
	bool quote = strpbrk(s, ",\"\r\n") != NULL;
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s);

	if (quote)
		fputc('"', f);
	if (formula)
		fputc('\'', f);
	while (left) {
		bool ok;
		size_t n = next_char(p, left, &ok);
		if (!ok)
			fputc('?', f);
		else if (*p == '"')
			fputs("\"\"", f);
		else
			fwrite(p, 1, n, f);
		p += n;
		left -= n;
	}
	if (quote)
		fputc('"', f);
}

static const char *jstr(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static int finish(FILE *f, const char *what, struct ff_err *err)
{
	if (fflush(f) || ferror(f))
		return ff_err_set(err, FF_EINTERNAL, "cannot write the %s report: %s", what,
				  strerror(errno));
	return 0;
}

int ff_report_junit(FILE *f, const char *suite, const cJSON *findings, struct ff_err *err)
{
	int n = cJSON_GetArraySize(findings);
	const cJSON *x;
	char loc[1024];

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n<testsuite name=\"", f);
	ff_report_xml_text(f, suite, true);
	fprintf(f, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"0\">\n", n ? n : 1, n);
	if (!n) {
		fputs("  <testcase classname=\"", f);
		ff_report_xml_text(f, suite, true);
		fputs("\" name=\"no findings\"/>\n", f);
	}
	cJSON_ArrayForEach(x, findings)
	{
		const cJSON *line = cJSON_GetObjectItemCaseSensitive(x, "start_line");
		const char *rule = jstr(x, "rule_id"), *level = jstr(x, "level");
		const char *msg = jstr(x, "message");
		ff_location(jstr(x, "path"), cJSON_IsNumber(line) ? (long)line->valuedouble : 0,
			    loc, sizeof(loc));
		fputs("  <testcase classname=\"", f);
		ff_report_xml_text(f, suite, true);
		fputs("\" name=\"", f);
		ff_report_xml_text(f, rule ? rule : "-", true);
		fputs(" at ", f);
		ff_report_xml_text(f, loc, true);
		fputs("\">\n    <failure type=\"", f);
		ff_report_xml_text(f, level ? level : "-", true);
		fputs("\" message=\"", f);
		ff_report_xml_text(f, msg, true);
		fputs("\">level: ", f);
		ff_report_xml_text(f, level ? level : "-", false);
		fputs("\nrule: ", f);
		ff_report_xml_text(f, rule ? rule : "-", false);
		fputs("\nlocation: ", f);
		ff_report_xml_text(f, loc, false);
		fputs("\nmessage: ", f);
		ff_report_xml_text(f, msg, false);
		fputs("</failure>\n  </testcase>\n", f);
	}
	fputs("</testsuite>\n</testsuites>\n", f);
	return finish(f, "JUnit", err);
}

/* A whole-number member as CSV: empty when it is missing. */
static void csv_number(FILE *f, const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (cJSON_IsNumber(v))
		fprintf(f, "%ld", (long)v->valuedouble);
}

int ff_report_csv(FILE *f, const cJSON *findings, struct ff_err *err)
{
	const cJSON *x;
	fputs("rule_id,level,path,start_line,end_line,message,fingerprint\r\n", f);
	cJSON_ArrayForEach(x, findings)
	{
		ff_report_csv_field(f, jstr(x, "rule_id"));
		fputc(',', f);
		ff_report_csv_field(f, jstr(x, "level"));
		fputc(',', f);
		ff_report_csv_field(f, jstr(x, "path"));
		fputc(',', f);
		csv_number(f, x, "start_line");
		fputc(',', f);
		csv_number(f, x, "end_line");
		fputc(',', f);
		ff_report_csv_field(f, jstr(x, "message"));
		fputc(',', f);
		ff_report_csv_field(f, jstr(x, "fingerprint"));
		fputs("\r\n", f);
	}
	return finish(f, "CSV", err);
}

int ff_report_write_atomic(const char *path, ff_report_fill_fn *fill, void *arg, struct ff_err *err)
{
	char *tmp = NULL;
	FILE *f = NULL;
	int fd = -1, rc = 0;

	/* O_EXCL: never write through a file (or a planted link) that is already there */
	for (int i = 0; i < 100 && fd < 0; i++) {
		free(tmp);
		if (asprintf(&tmp, "%s.tmp-%ld-%d", path, (long)getpid(), i) < 0)
			return ff_err_set(err, FF_ENOMEM, "out of memory");
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		rc = ff_err_set(err, FF_EINVAL, "cannot create '%s': %s", tmp, strerror(errno));
		free(tmp);
		return rc;
	}
	if (!(f = fdopen(fd, "w"))) {
		close(fd);
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
		goto out_unlink;
	}
	if ((rc = fill(f, arg, err)))
		goto out_unlink;
	/* on disk before the rename makes it the report, so a crash leaves old or new whole */
	if (fflush(f) || fsync(fileno(f))) {
		rc = ff_err_set(err, FF_EINTERNAL, "cannot write '%s': %s", path, strerror(errno));
		goto out_unlink;
	}
	int closed = fclose(f);
	f = NULL;
	if (closed) {
		rc = ff_err_set(err, FF_EINTERNAL, "cannot write '%s': %s", path, strerror(errno));
		goto out_unlink;
	}
	if (rename(tmp, path)) {
		rc = ff_err_set(err, FF_EINVAL, "cannot write '%s': %s", path, strerror(errno));
		goto out_unlink;
	}
	free(tmp);
	return 0;

out_unlink:
	if (f)
		fclose(f);
	unlink(tmp);
	free(tmp);
	return rc;
}
