/* Placeholder until the SVG writer lands. */
#include "report.h"

int sg_report_write_svg(const struct sg_report *r, FILE *out)
{
	return -1;
}
