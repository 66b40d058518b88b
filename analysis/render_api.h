/* SPDX-License-Identifier: MIT */
/*
 * The renderer as a module: render.c (cairo and pango) is built as the
 * shared module punchlab-render, loaded with dlopen by render_dl.c the first
 * time a command draws. Linking cairo and pango into the executable took its
 * start from 2.7 to 7.1 ms, paid by every command and by every delay helper
 * a lab starts (bench/README.md); only plot and report need them.
 */
#pragma once
#include <stdbool.h>
#include <stdio.h>
#include "figure.h"
#include "render.h"

/* Bumped when this struct changes: a stale module is refused, not called. */
#define FIG_RENDER_ABI 1

struct fig_render_api {
	int abi;
	struct fig_render *(*new_)(void);
	void (*free_)(struct fig_render *r);
	struct fig_font (*font)(struct fig_render *r, double size, bool bold);
	/* 0, or -errno with WHY ("cannot write: REASON") */
	int (*write)(struct fig_render *r, const struct fig_scene *s, enum fig_format fmt, FILE *f,
		     char *why, size_t whylen);
};

/* The symbol the module exports. */
extern const struct fig_render_api punchlab_render_api;
