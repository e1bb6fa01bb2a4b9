# Shared by scripts/*: create .venv with Python >= 3.11 and install the project into it.
# Everything it says goes to stderr: scripts/demo's stdout is the demo itself.
VENV="${VENV:-.venv}"
ensure_venv() {
  local extra="${1:-}" py="${PYTHON:-}" spec="."
  if [ -z "$py" ]; then
    for c in python3.13 python3.12 python3.11 python3; do
      # The probe is silent: a pyenv shim for a version that is not installed prints an error.
      if command -v "$c" >/dev/null 2>&1 &&
        "$c" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
        py="$c"; break
      fi
    done
  fi
  [ -n "$py" ] || { echo "Python >= 3.11 is required; set PYTHON to one." >&2; exit 1; }
  [ -n "$extra" ] && spec=".[$extra]"
  local stamp="$VENV/.installed-$extra"
  if [ ! -x "$VENV/bin/python" ]; then
    echo "Setting up $VENV (first run, about a minute)…" >&2
    "$py" -m venv "$VENV"
  elif [ ! -f "$stamp" ]; then
    echo "Installing ${extra:+the $extra extra }into $VENV (about a minute)…" >&2
  elif [ pyproject.toml -nt "$stamp" ]; then
    echo "Updating $VENV (pyproject.toml changed)…" >&2
  fi
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    "$VENV/bin/python" -m pip install -q --upgrade pip >&2
    "$VENV/bin/python" -m pip install -q -e "$spec" >&2
    touch "$stamp"
  fi
}
