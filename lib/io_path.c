/* io_path.c — names derived from file paths. */
#include "ax_io.h"

#include <string.h>

char *ax_path_stem(const char *path, const char *cut)
{
	const char *base = strrchr(path, '/');
	char *name = ax_xstrdup(base ? base + 1 : path);
	char *at = strstr(name, cut);
	if (at && at != name)
		*at = 0;
	return name;
}
