#!/bin/sh
# One flowrun node per Slurm task: the node's name is the Slurm node it runs
# on (SLURMD_NODENAME), unless FLOWRUN_NODE says otherwise, so the pipeline's
# nodes: are named like the allocation's hosts.
#   srun --multi-prog multi-prog.conf      (every task runs this script)
#   flowrun-node.sh [PIPELINE.yaml]        (default: $PIPELINE)
set -eu
node=${FLOWRUN_NODE:-${SLURMD_NODENAME:?not started by srun: set FLOWRUN_NODE}}
exec "${FLOWRUN:-flowrun}" run --node "$node" "${1:-${PIPELINE:?set PIPELINE or give the file}}"
