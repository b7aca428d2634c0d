/* SPDX-License-Identifier: GPL-2.0 */
/* objtool annotations mean nothing outside the kernel. */
#define ANNOTATE_NOENDBR
