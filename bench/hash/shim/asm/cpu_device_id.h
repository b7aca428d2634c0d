/* SPDX-License-Identifier: GPL-2.0 */
#pragma once
#include "../kernel-shim.h"
/* As arch/x86/include/asm/cpu_device_id.h has it, minus the matching. */
struct x86_cpu_id { int unused; };
#define X86_MATCH_VFM(vfm, data) { 0 }
/* The bench runs every hash: no CPU is avoided. */
#define x86_match_cpu(list) ((void)(list), false)
