# SPDX-License-Identifier: GPL-2.0
# ksm-next lab: see README.md.  Every target is a script in lab/.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# The pinned base (BASE_PACKAGE, BASE_VERSION, ...), for the help text; the
# scripts read it themselves.
include lab/base.conf
.PHONY: help deps tree series kernel check bisect sparse demo stress bench-hash bench-engine bench-patches bench-thp bench-numa send-dry-run clean

help:
	@echo "make check         build, boot and test the series (what CI runs)"
	@echo "make bisect        build and boot each patch on its own (LAST=N: the last N)"
	@echo "make sparse        sparse and W=1 warnings the series adds to the files it touches"
	@echo "make demo          base vs patched kernel on a VM-host workload, natively (UML), with a chart"
	@echo "make stress        ksm-stress soak (DURATION=1800 s, KERNEL=patched|debug|base, NODES=2|4)"
	@echo "make bench-hash    KSM page hashes vs their peers, natively (table, CSV, PNG)"
	@echo "make bench-engine  base vs patched ksmd on four workloads (UML CPU times, QEMU compares)"
	@echo "make bench-patches ksmd CPU per page at each engine patch (UML; FROM=N TO=N)"
	@echo "make bench-thp     base vs patched KSM on THPs with k duplicate subpages (QEMU)"
	@echo "make bench-numa    base vs patched placement, savings and policy switches on 4 nodes (QEMU)"
	@echo "make tree          build/linux = $(BASE_PACKAGE) $(BASE_VERSION) + patches/ (KERNEL_SRC=dir: your tree)"
	@echo "make series        write build/linux's commits back to patches/"
	@echo "make kernel        build the patched kernel only"
	@echo "make send-dry-run  write the series' mails into build/mail/, offline"
	@echo "make deps          install the Debian packages the lab needs"
	@echo "make clean         remove build/ except the unpacked base and ccache"

deps:
	bash lab/deps.sh

tree: deps
	bash lab/tree.sh $(KERNEL_SRC)

series:
	bash lab/series.sh

kernel:
	bash lab/build-kernel.sh patched

check:
	bash lab/check.sh

bisect:
	LAST=$(LAST) bash lab/bisect.sh

sparse:
	FILES="$(FILES)" bash lab/sparse.sh

demo:
	bash lab/demo.sh

stress:
	DURATION=$(DURATION) KERNEL=$(KERNEL) NODES=$(NODES) bash lab/stress.sh

bench-hash:
	bash lab/bench-hash.sh

bench-engine:
	SIZES="$(SIZES)" QEMU_SIZES="$(QEMU_SIZES)" SCENARIOS="$(SCENARIOS)" PARTS="$(PARTS)" RUNS="$(RUNS)" bash lab/bench-engine.sh

bench-patches:
	FROM="$(FROM)" TO="$(TO)" SCENARIOS="$(SCENARIOS)" MIB="$(MIB)" RUNS="$(RUNS)" HASH="$(HASH)" BASE="$(BASE)" bash lab/bench-patches.sh

bench-thp:
	bash lab/bench-thp.sh

bench-numa:
	bash lab/bench-numa.sh

send-dry-run:
	bash lab/send-dry-run.sh

clean:
	rm -rf build/obj build/guest build/logs build/mail build/bench-hash* build/bench-engine* build/bench-patches* build/bench-thp* build/bench-numa* build/apt build/linux-um
	-git -C build/linux worktree prune 2>/dev/null
