# SPDX-License-Identifier: GPL-2.0
#
# The helpers the guest's shell programs share (/lib/lab.sh in the
# initramfs; the C programs have ksm-util.h): the kernel command line,
# KSM's sysfs knobs and the swap device. Source it: . /lib/lab.sh

KSM=/sys/kernel/mm/ksm

# cmdline_arg NAME: the value of the last NAME= on the kernel command line.
cmdline_arg() {
	tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | tail -n 1
}

# ksm_get KNOB: the knob's value; for a mode file, the mode in [brackets].
ksm_get() {
	case $(cat "$KSM/$1") in
	*\[*) sed -n 's/.*\[\(.*\)\].*/\1/p' "$KSM/$1" ;;
	*) cat "$KSM/$1" ;;
	esac
}

# ksm_set KNOB VALUE: write VALUE; fails when the kernel refuses it.
ksm_set() {
	echo "$2" >"$KSM/$1"
}

# swap_on: the first RAM disk (brd.rd_nr=1 brd.rd_size=KiB on the command
# line) as swap; nothing to do when it already is.
swap_on() {
	grep -q '^/dev/ram0 ' /proc/swaps && return 0
	[ -b /dev/ram0 ] || {
		echo "# no /dev/ram0 (boot with brd.rd_nr=1 brd.rd_size=KiB)"
		return 1
	}
	mkswap /dev/ram0 >/dev/null && swapon /dev/ram0 || return 1
	echo "# swap: $(grep SwapTotal /proc/meminfo)"
}

swap_off() {
	grep -q '^/dev/ram0 ' /proc/swaps || return 0
	swapoff /dev/ram0
}
