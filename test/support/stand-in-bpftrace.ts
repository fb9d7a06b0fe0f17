// The start of a stand-in `bpftrace` shell script: it passes the agent's preflight
// (--version, --info) and, run on a program, says its probes are attached, as the real
// one does. Each test appends what its stand-in prints after that.
export const STAND_IN_PROLOGUE = `#!/bin/sh
case "$1" in
  --version) echo "bpftrace v0.17.0"; exit 0 ;;
  --info) echo "  btf: yes"; exit 0 ;;
esac
`;

/** What the stand-in prints once it runs a program: its probes attached. */
export const STAND_IN_ATTACHED = `echo '{"type": "attached_probes", "data": {"probes": 2}}'
printf '%s\\n' '{"type": "printf", "data": "hookpoint:attached\\n"}'
`;
