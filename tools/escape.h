/*
 * Untrusted text on its way out of the tool: process names, paths, unit
 * names, policy text and log fields may hold any byte.  Each kind of output
 * has exactly one function here, and every text the tool writes that can
 * carry such bytes goes through the one for its kind:
 *
 *   terminal text   sg_esc_text, sg_esc_str, sg_esc_arg, sg_esc_put_text
 *   JSON string     sg_esc_put_json
 *   SVG/XML text    sg_esc_put_xml
 *   Prometheus label sg_esc_put_prom_label
 *   systemd value   sg_esc_unit_value
 *
 * The shim's own log line is escaped by shim/fmt.c, with the same \xNN
 * form as the terminal text here.
 */
#ifndef SG_ESCAPE_H
#define SG_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/*
 * Terminal text: printable ASCII and valid UTF-8 are kept; control bytes,
 * DEL and bytes that are not part of valid UTF-8 become \xNN.  The escaped
 * form of p[0..n) is written into buf, cut to at most width bytes with
 * "..." when it is longer (width is at least 4 and at most size - 1).
 * Returns the length written; buf is always NUL-terminated.  size must be
 * at least 8.
 */
size_t sg_esc_text(char *buf, size_t size, const char *p, size_t n,
		   size_t width);

/* A buffer that holds the whole terminal text of n bytes. */
#define SG_ESC_TEXT_SIZE(n) ((n) * 4 + 8)

/*
 * The terminal text of the string s in buf, cut with "..." if buf is too
 * small; returns buf, so that it can go straight into a printf argument.
 */
const char *sg_esc_str(char *buf, size_t size, const char *s);

/*
 * The terminal text of s in one of SG_ESC_SLOTS static buffers (each holds
 * a path's worth: PATH_MAX bytes before escaping), so that one printf can
 * take several: the text stays until the next call with the same slot.
 */
#define SG_ESC_SLOTS 4
const char *sg_esc_arg(int slot, const char *s);

/* Writes the whole terminal text of s to out. */
void sg_esc_put_text(FILE *out, const char *s);

/*
 * Writes s as a JSON string, quotes included (RFC 8259): '"' and '\' are
 * escaped, control characters and DEL become \u00NN, valid UTF-8 is kept,
 * and a byte that is not valid UTF-8 becomes the six characters \\xNN (the
 * text \xNN), so that the document is always valid UTF-8.
 */
void sg_esc_put_json(FILE *out, const char *s);

/*
 * Writes s as XML character data or attribute text: & < > " ' become
 * entities, and control bytes (which XML 1.0 cannot carry even as
 * references), DEL and bytes that are not valid UTF-8 become the text \xNN.
 */
void sg_esc_put_xml(FILE *out, const char *s);

/*
 * Writes s as the inside of a Prometheus label value (the text exposition
 * format 0.0.4): the terminal text of s, so control bytes, DEL and bytes
 * that are not valid UTF-8 become the text \xNN and a newline cannot occur,
 * with '\' and '"' escaped by a backslash.
 */
void sg_esc_put_prom_label(FILE *out, const char *s);

/*
 * Quotes s for the inside of a double-quoted systemd value (systemd.syntax(7),
 * "Quoting"): '"' and '\' get a backslash, control bytes and DEL become \xNN
 * (systemd turns them back into the byte, within the same line), and '%'
 * becomes "%%" so that systemd does not take it for a specifier
 * (systemd.unit(5), "Specifiers").  With keep_specifiers, '%' is left as it
 * is: for text read from a unit file, whose specifiers must keep their
 * meaning.  A newline can therefore never end the line and start a
 * directive.  Returns a new string, or NULL with errno EILSEQ when s is not
 * valid UTF-8 (systemd would drop the whole assignment) or ENOMEM.
 */
char *sg_esc_unit_value(const char *s, int keep_specifiers);

#endif
