/* SPDX-License-Identifier: MIT */
/*
 * Process identity: a pid plus its start time (field 22 of /proc/PID/stat),
 * so that a recorded process is not confused with a later one that reused
 * its pid.
 */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

/* PID's start time in clock ticks since boot; 0 if there is no such process. */
unsigned long long proc_start(pid_t pid);
/* PID runs and is the process that started at START. */
bool proc_alive(pid_t pid, unsigned long long start);
