/* Placeholder until the JSON writer lands. */
#include "report.h"

void sg_report_write_json(const struct sg_report *r, FILE *out)
{
}
