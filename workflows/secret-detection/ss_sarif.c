/* ss_sarif — SARIF 2.1.0 writer; see ss_sarif.h. */
#include "ss_sarif.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SARIF_SCHEMA                                                                               \
	"https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"                      \
	"sarif-schema-2.1.0.json"

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, past U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void ss_json_string(FILE *fp, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	fputc('"', fp);
	while (i < n) {
		unsigned char c = s[i];
		size_t k;

		switch (c) {
		case '"': fputs("\\\"", fp), i++; continue;
		case '\\': fputs("\\\\", fp), i++; continue;
		case '\n': fputs("\\n", fp), i++; continue;
		case '\r': fputs("\\r", fp), i++; continue;
		case '\t': fputs("\\t", fp), i++; continue;
		}
		if (c < 0x20 || c == 0x7f) {
			fprintf(fp, "\\u%04x", c);
			i++;
			continue;
		}
		k = utf8_seq(s + i, n - i);
		if (!k) {
			fputs("\\ufffd", fp);
			i++;
			continue;
		}
		fwrite(s + i, 1, k, fp);
		i += k;
	}
	fputc('"', fp);
}

static void jstr(FILE *fp, const char *s)
{
	ss_json_string(fp, s, strlen(s));
}

char *ss_uri_encode_path(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(path), o = 0;
	char *out = malloc(3 * n + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)path[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~/", c)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

static void write_rules(FILE *fp)
{
	for (int i = 0; i < SS_RULE_COUNT; i++) {
		const struct ss_rule *r = &ss_rules[i];
		bool err = strcmp(r->level, "error") == 0;

		fputs(i ? ",\n" : "\n", fp);
		fputs("            {\"id\": ", fp);
		jstr(fp, r->id);
		fputs(", \"name\": ", fp);
		jstr(fp, r->name);
		fputs(",\n             \"shortDescription\": {\"text\": ", fp);
		jstr(fp, r->description);
		fputs("},\n             \"fullDescription\": {\"text\": ", fp);
		jstr(fp, r->description);
		fputs("},\n             \"help\": {\"text\": ", fp);
		jstr(fp, r->help);
		/* markdown: the same fixed texts, and the weakness every secret rule is */
		char md[1024];
		snprintf(md, sizeof(md),
			 "%s\n\n%s\n\n[CWE-798](https://cwe.mitre.org/data/definitions/798.html)",
			 r->description, r->help);
		fputs(", \"markdown\": ", fp);
		jstr(fp, md);
		fprintf(fp,
			"},\n             \"defaultConfiguration\": {\"level\": \"%s\"},\n"
			"             \"properties\": {\"tags\": [\"security\", \"secret\", "
			"\"external/cwe/cwe-798\"], "
			"\"precision\": \"%s\", \"security-severity\": \"%s\"}}",
			r->level, i == SS_RULE_GENERIC_CREDENTIAL ? "medium" : "high",
			err ? "8.0" : "6.0");
	}
}

static void write_location(FILE *fp, const char *path)
{
	char *uri = ss_uri_encode_path(path);

	fputs("{\"physicalLocation\": {\"artifactLocation\": {\"uri\": ", fp);
	jstr(fp, uri ? uri : "");
	fputs(", \"uriBaseId\": \"" SS_SARIF_URI_BASE "\"}", fp);
	free(uri);
}

static void write_invocation(FILE *fp, const struct ss_report *rep)
{
	const struct ss_stats *st = &rep->stats;
	size_t i;

	fputs("      \"invocations\": [{\n        \"executionSuccessful\": true", fp);
	if (rep->nnotices || rep->notices_dropped || rep->findings.dropped) {
		fputs(",\n        \"toolExecutionNotifications\": [", fp);
		for (i = 0; i < rep->nnotices; i++) {
			const struct ss_notice *nt = &rep->notices[i];
			fputs(i ? ",\n          " : "\n          ", fp);
			fprintf(fp, "{\"level\": \"%s\", \"message\": {\"text\": ",
				nt->note ? "note" : "warning");
			jstr(fp, nt->msg);
			fputc('}', fp);
			if (nt->path) {
				fputs(", \"locations\": [", fp);
				write_location(fp, nt->path);
				fputs("}}]", fp);
			}
			fputc('}', fp);
		}
		if (rep->notices_dropped)
			fprintf(fp,
				"%s{\"level\": \"note\", \"message\": {\"text\": \"%zu more "
				"notifications were left out\"}}",
				i++ ? ",\n          " : "\n          ", rep->notices_dropped);
		if (rep->findings.dropped)
			fprintf(fp,
				"%s{\"level\": \"warning\", \"message\": {\"text\": \"%zu more "
				"findings were left out (limit %d in all, %d per file)\"}}",
				i ? ",\n          " : "\n          ", rep->findings.dropped,
				SS_FINDINGS_MAX, SS_FILE_CANDIDATES_MAX);
		fputs("\n        ]", fp);
	}
	fprintf(fp,
		",\n        \"properties\": {\"filesListed\": %zu, \"filesScanned\": %zu, "
		"\"bytesScanned\": %llu, \"skippedBinary\": %zu, \"skippedTooLarge\": %zu, "
		"\"skippedExcluded\": %zu, \"skippedVendored\": %zu, \"skippedSpecial\": %zu, "
		"\"skippedUnreadable\": %zu, \"seconds\": %.3f}\n      }],\n",
		st->files_listed, st->files_scanned, st->bytes_scanned, st->skipped_binary,
		st->skipped_large, st->skipped_excluded, st->skipped_vendored, st->skipped_special,
		st->skipped_unreadable, st->seconds);
}

static void write_result(FILE *fp, const struct ss_finding *f)
{
	const struct ss_rule *r = &ss_rules[f->rule];

	fputs("        {\"ruleId\": ", fp);
	jstr(fp, r->id);
	fprintf(fp, ", \"ruleIndex\": %d, \"level\": \"%s\",\n         \"message\": {\"text\": ",
		f->rule, f->level ? f->level : r->level);
	jstr(fp, f->message);
	fputs("},\n         \"locations\": [", fp);
	write_location(fp, f->path);
	fprintf(fp,
		",\n           \"region\": {\"startLine\": %ld, \"startColumn\": %ld, "
		"\"endColumn\": %ld, \"snippet\": {\"text\": ",
		f->line, f->start_col, f->end_col);
	jstr(fp, f->snippet);
	fputs("}}}}],\n         \"partialFingerprints\": {\"secretHash/v1\": ", fp);
	jstr(fp, f->fingerprint);
	fputs("}}", fp);
}

int ss_sarif_write(FILE *fp, const struct ss_report *rep, const char *root_uri, struct ff_err *err)
{
	size_t i;

	fputs("{\n  \"$schema\": \"" SARIF_SCHEMA "\",\n  \"version\": \"2.1.0\",\n  \"runs\": [\n"
	      "    {\n      \"tool\": {\"driver\": {\n"
	      "        \"name\": \"ff-secret-scan\", \"version\": \"" SS_VERSION "\", "
	      "\"semanticVersion\": \"" SS_VERSION "\",\n        \"rules\": [",
	      fp);
	write_rules(fp);
	fputs("\n        ]\n      }},\n", fp);
	if (root_uri) {
		fputs("      \"originalUriBaseIds\": {\"" SS_SARIF_URI_BASE "\": {\"uri\": ", fp);
		jstr(fp, root_uri);
		fputs("}},\n", fp);
	}
	fputs("      \"columnKind\": \"unicodeCodePoints\",\n", fp);
	write_invocation(fp, rep);
	fputs("      \"results\": [", fp);
	for (i = 0; i < rep->findings.n; i++) {
		fputs(i ? ",\n" : "\n", fp);
		write_result(fp, &rep->findings.items[i]);
	}
	fputs(rep->findings.n ? "\n      ]\n    }\n  ]\n}\n" : "]\n    }\n  ]\n}\n", fp);
	if (fflush(fp) != 0 || ferror(fp))
		return ff_err_set(err, FF_EINTERNAL, "cannot write the sarif log: %s",
				  strerror(errno));
	return 0;
}

int ss_sarif_write_file(const char *path, const struct ss_report *rep, const char *root_uri,
			struct ff_err *err)
{
	char *tmp = NULL;
	FILE *fp = NULL;
	int fd = -1, rc = 0;

	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0) {
		tmp = NULL;
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = ff_err_set(err, FF_EINTERNAL, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	/* mkstemp makes it 0600; the log is for whoever reads /results */
	if (fchmod(fd, 0644) < 0) {
		rc = ff_err_set(err, FF_EINTERNAL, "cannot chmod %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	fp = fdopen(fd, "w");
	if (!fp) {
		rc = ff_err_set(err, FF_EINTERNAL, "cannot open %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	fd = -1;
	rc = ss_sarif_write(fp, rep, root_uri, err);
	if (rc)
		goto out_unlink;
	if (fsync(fileno(fp)) < 0 && errno != EINVAL) {
		rc = ff_err_set(err, FF_EINTERNAL, "cannot sync %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	if (fclose(fp) != 0) {
		fp = NULL;
		rc = ff_err_set(err, FF_EINTERNAL, "cannot write %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	fp = NULL;
	if (rename(tmp, path) < 0) {
		rc = ff_err_set(err, FF_EINTERNAL, "cannot rename %s to %s: %s", tmp, path,
				strerror(errno));
		goto out_unlink;
	}
	goto out;
out_unlink:
	unlink(tmp);
out:
	if (fp)
		fclose(fp);
	if (fd >= 0)
		close(fd);
	free(tmp);
	return rc;
}
