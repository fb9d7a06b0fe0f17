# Sourced by setup steps: run a build script that exits 2 when this machine cannot build
# (no Go, no network): a failure under CI=true, elsewhere a note that tests are skipped.
# Needs log() from the caller.
# Usage: build_or_explain <script> "<what is built>" "<which tests need it>"
build_or_explain() {
  local script=$1 what=$2 tests=$3 rc=0
  bash "$script" || rc=$?
  case $rc in
    0) ;;
    2)
      if [[ ${CI:-} == true ]]; then
        log "$what cannot be built on this machine, and CI needs them for the $tests"
        exit 1
      fi
      log "$what cannot be built here (see above): the $tests will be skipped"
      ;;
    *) log "building $what failed (exit code $rc)"; exit "$rc" ;;
  esac
}
