/* SPDX-License-Identifier: MIT */
#pragma once

/* mkdir -p PATH (mode 0755): 0, or -1 with errno set. */
int mkdir_p(const char *path);
