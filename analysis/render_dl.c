// SPDX-License-Identifier: MIT
/* The renderer's face in the executable: finds the module (render_api.h)
 * next to the running executable the first time a figure is drawn. */
#include "render.h"
#include "render_api.h"
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MODULE "libpunchlab-render.so"

static const struct fig_render_api *api;
static char load_error[PATH_MAX + 512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* PUNCHLAB_RENDER (a module's path), else the executable's directory's
 * analysis/ (the build tree: punchlab), then ../analysis/ (tests/...). */
static void load(void)
{
	char exe[PATH_MAX], path[PATH_MAX + 64];
	const char *env = getenv("PUNCHLAB_RENDER");
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *tries[2] = {"analysis/" MODULE, "../analysis/" MODULE};
	void *h = NULL;

	exe[n > 0 ? n : 0] = 0;
	char *slash = strrchr(exe, '/');
	if (slash)
		slash[1] = 0;
	for (int i = env ? -1 : 0; !h && i < 2; i++) {
		if (i < 0)
			snprintf(path, sizeof(path), "%s", env);
		else
			snprintf(path, sizeof(path), "%s%s", exe, tries[i]);
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (!h)
			snprintf(load_error, sizeof(load_error),
				 "cannot load the renderer (%s, looked for next to the executable; "
				 "PUNCHLAB_RENDER may name it): %s",
				 MODULE, dlerror());
	}
	const struct fig_render_api *a = h ? dlsym(h, "punchlab_render_api") : NULL;
	if (h && (!a || a->abi != FIG_RENDER_ABI))
		snprintf(load_error, sizeof(load_error),
			 "cannot load the renderer: %s is not this punchlab's (ABI %d)", path,
			 a ? a->abi : -1);
	else if (h)
		api = a;
}

const char *fig_render_error(void)
{
	pthread_once(&once, load);
	return api ? NULL : load_error;
}

struct fig_render *fig_render_new(void)
{
	pthread_once(&once, load);
	return api ? api->new_() : NULL;
}

void fig_render_free(struct fig_render *r)
{
	if (r && api)
		api->free_(r);
}

struct fig_font fig_render_font(struct fig_render *r, double size, bool bold)
{
	return api->font(r, size, bold);
}

int fig_render_write(struct fig_render *r, const struct fig_scene *s, enum fig_format fmt, FILE *f,
		     const char *name, struct perr *err)
{
	char why[256] = "cannot draw";
	int rc = api->write(r, s, fmt, f, why, sizeof(why));
	if (rc < 0)
		perr_set(err, name, 0, 0, "%s", why);
	return rc;
}

int fig_format_of(const char *path, enum fig_format *out)
{
	static const char *const ext[] = {".svg", ".pdf", ".png"};
	size_t len = strlen(path);
	for (int i = 0; i < 3; i++)
		if (len > 4 && !strcasecmp(path + len - 4, ext[i])) {
			*out = (enum fig_format)i;
			return 0;
		}
	return -1;
}


/*
 * Fontconfig keeps its caches (reached through pango's font map, which
 * loads them in a thread of its own) until the process ends, and
 * LeakSanitizer calls them leaks. They cannot be freed at exit: FcFini
 * asserts when pango still holds a cache (it did, in 1 test run of 3). So
 * the sanitizer is told, by its documented hook, which library's memory
 * this is; under ASan only.
 */
#if defined(__SANITIZE_ADDRESS__)
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libfontconfig.so\n";
}

/* and quietly: a command's stderr is its messages */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}
#endif
