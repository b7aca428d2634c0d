#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ksm-swap on|off: turn the RAM disk swap on or off, for the kselftests that
# need swap (ksm_swapin_exit). The plan that uses it boots with
# brd.rd_nr=1 brd.rd_size=KiB.

. /lib/lab.sh

case $1 in
on) swap_on ;;
off) swap_off ;;
*) echo "usage: ksm-swap on|off" >&2; exit 2 ;;
esac
