# Shared by scripts/*: create .venv with Python >= 3.11 and install the project into it.
VENV="${VENV:-.venv}"
ensure_venv() {
  local extra="${1:-}" py="${PYTHON:-}" spec="."
  if [ -z "$py" ]; then
    for c in python3.13 python3.12 python3.11 python3; do
      if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        py="$c"; break
      fi
    done
  fi
  [ -n "$py" ] || { echo "Python >= 3.11 is required" >&2; exit 1; }
  [ -n "$extra" ] && spec=".[$extra]"
  local stamp="$VENV/.installed-$extra"
  if [ ! -x "$VENV/bin/python" ]; then "$py" -m venv "$VENV"; fi
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    "$VENV/bin/python" -m pip install -q --upgrade pip >&2
    "$VENV/bin/python" -m pip install -q -e "$spec" >&2
    touch "$stamp"
  fi
}
