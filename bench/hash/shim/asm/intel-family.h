/* SPDX-License-Identifier: GPL-2.0 */
/* The model names are arguments to X86_MATCH_VFM() only, which ignores them. */
