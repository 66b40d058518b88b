/* SPDX-License-Identifier: MIT */
/* SHA-256 (FIPS 180-4), for the hashes recorded in results. */
#pragma once
#include <stddef.h>
#include <stdint.h>

void sha256(const void *data, size_t len, uint8_t out[32]);
/* lowercase hex into OUT (65 bytes) */
void sha256_hex(const void *data, size_t len, char out[65]);
