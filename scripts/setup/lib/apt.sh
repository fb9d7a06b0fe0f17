# Sourced by setup steps: install Debian packages when root with apt-get, else say what is
# missing and which tests will be skipped. Needs log() from the caller.
# Usage: apt_install_or_explain "<what gets skipped>" pkg...
apt_install_or_explain() {
  local skipped=$1
  shift
  if [[ $(id -u) -ne 0 ]]; then
    log "missing $* and not root: cannot install ($skipped)"
  elif ! command -v apt-get >/dev/null; then
    log "missing $* and no apt-get: install them by hand ($skipped)"
  else
    log "installing $* with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || { log "ERROR: apt-get update failed"; exit 1; }
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null || { log "ERROR: apt-get install $* failed"; exit 1; }
  fi
}
