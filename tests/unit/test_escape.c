/*
 * The tool's escaping of untrusted text, one function per output kind
 * (tools/escape.h): terminal text, JSON strings, XML text and systemd unit
 * values.  Whatever bytes come in, nothing comes out that the output kind
 * would read as anything but the text.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/escape.h"

/* Runs put(out, s) on a memory stream and returns what it wrote. */
static char *captured(void (*put)(FILE *, const char *), const char *s)
{
	static char *buf;
	size_t len;

	free(buf);
	FILE *f = open_memstream(&buf, &len);
	cr_assert_not_null(f);
	put(f, s);
	fclose(f);
	return buf;
}

Test(escape, terminal_text_keeps_utf8_and_escapes_every_other_byte)
{
	char buf[64];

	sg_esc_text(buf, sizeof(buf), "a\x01\x7f" "b\xff\xc3\xa9", 7, 100);
	cr_expect_str_eq(buf, "a\\x01\\x7fb\\xff\xc3\xa9");
	sg_esc_text(buf, sizeof(buf), "\xed\xa0\x80", 3, 100);	/* a surrogate */
	cr_expect_str_eq(buf, "\\xed\\xa0\\x80");
	sg_esc_text(buf, sizeof(buf), "\xc0\xaf", 2, 100);	/* overlong '/' */
	cr_expect_str_eq(buf, "\\xc0\\xaf");
	sg_esc_text(buf, sizeof(buf), "\xf4\x90\x80\x80", 4, 100);	/* > U+10FFFF */
	cr_expect_str_eq(buf, "\\xf4\\x90\\x80\\x80");
	sg_esc_text(buf, sizeof(buf), "\xe2\x82", 2, 100);	/* cut short */
	cr_expect_str_eq(buf, "\\xe2\\x82");
}

Test(escape, terminal_text_is_cut_with_an_ellipsis_only_when_too_long)
{
	char buf[64];

	sg_esc_text(buf, sizeof(buf), "0123456789", 10, 8);
	cr_expect_str_eq(buf, "01234...");
	sg_esc_text(buf, sizeof(buf), "01234567", 8, 8);
	cr_expect_str_eq(buf, "01234567");
	/* An escape is never cut in half. */
	sg_esc_text(buf, sizeof(buf), "ab\x1b[31m", 7, 8);
	cr_expect_str_eq(buf, "ab...");
	char small[12];
	cr_expect_str_eq(sg_esc_str(small, sizeof(small), "\x1b\x1b\x1b"),
			 "\\x1b\\x1b...");
}

Test(escape, terminal_escape_sequences_reach_no_terminal)
{
	const char *s = captured(sg_esc_put_text, "\x1b[31mred\x1b]0;title\x07\r\n");

	cr_expect_str_eq(s, "\\x1b[31mred\\x1b]0;title\\x07\\x0d\\x0a");
	cr_expect_null(strpbrk(s, "\x1b\x07\r\n"));
}

Test(escape, json_strings_are_valid_whatever_the_bytes)
{
	cr_expect_str_eq(captured(sg_esc_put_json, "a\"b\\c"), "\"a\\\"b\\\\c\"");
	cr_expect_str_eq(captured(sg_esc_put_json, "\x1b[0m\n\x7f"),
			 "\"\\u001b[0m\\u000a\\u007f\"");
	cr_expect_str_eq(captured(sg_esc_put_json, "caf\xc3\xa9"), "\"caf\xc3\xa9\"");
	/* A byte that is not UTF-8 becomes the text \xff, backslash escaped. */
	cr_expect_str_eq(captured(sg_esc_put_json, "x\xffy"), "\"x\\\\xffy\"");
}

Test(escape, xml_text_has_entities_and_no_control_bytes)
{
	cr_expect_str_eq(captured(sg_esc_put_xml, "<a href=\"x\">&'</a>"),
			 "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;");
	cr_expect_str_eq(captured(sg_esc_put_xml, "\x01\x1b\xfe\xc3\xa9"),
			 "\\x01\\x1b\\xfe\xc3\xa9");
}

Test(escape, unit_values_cannot_end_the_line_or_expand_specifiers)
{
	char *v = sg_esc_unit_value("/tmp/p\nUser=nobody\r\"\\%h", 0);

	cr_assert_not_null(v);
	cr_expect_str_eq(v, "/tmp/p\\x0aUser=nobody\\x0d\\\"\\\\%%h");
	cr_expect_null(strpbrk(v, "\n\r"));
	free(v);
	v = sg_esc_unit_value("%t/libfoo.so \xc3\xa9", 1);
	cr_assert_not_null(v);
	cr_expect_str_eq(v, "%t/libfoo.so \xc3\xa9", "the unit's own specifiers stay");
	free(v);
}

Test(escape, unit_values_that_are_not_utf8_are_refused)
{
	errno = 0;
	cr_expect_null(sg_esc_unit_value("/tmp/\xff", 0));
	cr_expect_eq(errno, EILSEQ);
}
