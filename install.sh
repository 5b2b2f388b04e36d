#!/bin/sh
# tswren installer: the `tswren` npm package (with its pinned tslab), the "TypeScript (tswren)"
# Jupyter kernel and the JupyterLab progress extension, for the current user, without root.
#
#   curl -fsSL <url>/install.sh | sh                    # latest release
#   curl -fsSL <url>/install.sh | sh -s -- 0.1.0        # a pinned version (use this in notebooks)
#   sh install.sh --uninstall                            # remove exactly what it installed
#
# Environment: TSWREN_PREFIX (install folder, default ${XDG_DATA_HOME:-~/.local/share}/tswren),
# TSWREN_PACKAGE (an npm tarball path or URL instead of the registry), TSWREN_FORCE=1 (reinstall
# even when nothing changed), JUPYTER_DATA_DIR / XDG_DATA_HOME (where the kernel goes).
# Exit codes: 2 usage, 3 Node.js/npm missing or too old, 4 a folder cannot be written,
# 5 the package cannot be fetched or installed, 6 the package is incomplete. docs/install.md has it all.
#
# The whole body is one function called on the last line: a truncated download runs nothing.

tswren_install_main() {
  set -eu
  umask 022
  INSTALLER_FORMAT=1         # bump when the layout below changes: forces one reinstall
  NODE_MIN_MAJOR=20
  NODE_MIN_MINOR=19
  KERNEL_NAME=tswren
  KERNEL_DISPLAY="TypeScript (tswren)"
  LABEXT_NAME=@tswren/jupyterlab-progress

  action=install
  want_version=
  for arg in "$@"; do
    case $arg in
      --uninstall) action=uninstall ;;
      -h | --help) action=help ;;
      -*) die 2 "unknown option '$arg' (options: [VERSION] --uninstall --help)" ;;
      *)
        [ -z "$want_version" ] || die 2 "one version only, got '$want_version' and '$arg'"
        want_version=${arg#v}
        ;;
    esac
  done
  if [ "$action" = help ]; then
    usage
    return 0
  fi
  case $want_version in
    '' | latest | next) ;;
    *[!0-9A-Za-z.+-]* | .* | *..*) die 2 "'$want_version' is not a version (want e.g. 0.1.0)" ;;
    [0-9]*.[0-9]*.[0-9]*) ;;
    *) die 2 "'$want_version' is not a version (want e.g. 0.1.0)" ;;
  esac

  : "${HOME:?HOME is not set; set HOME or TSWREN_PREFIX and JUPYTER_DATA_DIR}"
  data_home=${XDG_DATA_HOME:-$HOME/.local/share}
  prefix=${TSWREN_PREFIX:-$data_home/tswren}
  case $prefix in
    /*) ;;
    *) die 2 "TSWREN_PREFIX must be an absolute path, got '$prefix'" ;;
  esac
  prefix=${prefix%/}
  nl='
'
  case $prefix in
    *"$nl"*) die 2 "TSWREN_PREFIX must not contain a newline" ;;
  esac
  manifest=$prefix/install.manifest
  stamp=$prefix/install.stamp

  if [ "$action" = uninstall ]; then
    uninstall
    return 0
  fi
  check_node
  find_data_dir
  resolve_source
  kernel_dir=$data_dir/kernels/$KERNEL_NAME
  labext_dir=$data_dir/labextensions/$LABEXT_NAME
  entry=$prefix/node_modules/tswren/bin/tswren.js
  new_stamp="format=$INSTALLER_FORMAT
source=$source_id
node=$node_path
data_dir=$data_dir"
  if [ "${TSWREN_FORCE:-0}" != 1 ] && up_to_date; then
    installed=$(sed -n 's/^version=//p' "$stamp")
    say "tswren $installed is already installed in $prefix; nothing changed (TSWREN_FORCE=1 reinstalls)"
    say "kernel: \"$KERNEL_DISPLAY\" in $kernel_dir"
    return 0
  fi
  do_install
}

usage() {
  cat <<'EOF'
Usage: install.sh [VERSION] [--uninstall]
  curl -fsSL <url>/install.sh | sh -s -- 0.1.0

Installs the tswren npm package and tslab under $TSWREN_PREFIX
(default ${XDG_DATA_HOME:-~/.local/share}/tswren), the Jupyter kernel "TypeScript (tswren)" and
the JupyterLab extension into the user's Jupyter data directory. No root needed. Re-running it
is fast when nothing changed. --uninstall removes exactly what it installed.

Environment: TSWREN_PREFIX, TSWREN_PACKAGE (npm tarball path or URL), TSWREN_FORCE=1,
JUPYTER_DATA_DIR, XDG_DATA_HOME.
EOF
}

say() { printf 'tswren: %s\n' "$*" >&2; }

# die CODE MESSAGE: print the message and exit with CODE (after the EXIT trap's clean-up).
die() {
  code=$1
  shift
  printf 'tswren install: error: %s\n' "$*" >&2
  exit "$code"
}

check_node() {
  if ! command -v node >/dev/null 2>&1; then
    die 3 "Node.js >= $NODE_MIN_MAJOR.$NODE_MIN_MINOR is required and 'node' is not on PATH. $(node_help)"
  fi
  node_version=$(node --version 2>/dev/null) || die 3 "'node --version' failed ($(command -v node)). $(node_help)"
  node_version=${node_version#v}
  major=${node_version%%.*}
  rest=${node_version#*.}
  minor=${rest%%.*}
  case $major$minor in
    '' | *[!0-9]*) die 3 "cannot read the Node.js version from 'node --version' ('$node_version'). $(node_help)" ;;
  esac
  if [ "$major" -lt "$NODE_MIN_MAJOR" ] || { [ "$major" -eq "$NODE_MIN_MAJOR" ] && [ "$minor" -lt "$NODE_MIN_MINOR" ]; }; then
    die 3 "Node.js $node_version is too old ($(command -v node)); tswren needs >= $NODE_MIN_MAJOR.$NODE_MIN_MINOR. $(node_help)"
  fi
  command -v npm >/dev/null 2>&1 || die 3 "'npm' is not on PATH (it comes with Node.js). $(node_help)"
  node_path=$(node -p 'process.execPath') || die 3 "node could not report its own path"
}

node_help() {
  printf '%s' "Install Node.js >= $NODE_MIN_MAJOR.$NODE_MIN_MINOR without root from https://nodejs.org (unpack the tarball, put its bin/ first on PATH), with nvm (https://github.com/nvm-sh/nvm: nvm install 22), or in a conda environment: conda install -c conda-forge 'nodejs>=22'; then run this installer again."
}

# The user's Jupyter data directory: $JUPYTER_DATA_DIR, else what `jupyter --data-dir` says, else
# the platform default (${XDG_DATA_HOME:-~/.local/share}/jupyter; ~/Library/Jupyter on macOS).
find_data_dir() {
  data_dir=${JUPYTER_DATA_DIR:-}
  if [ -z "$data_dir" ] && command -v jupyter >/dev/null 2>&1; then
    data_dir=$(jupyter --data-dir 2>/dev/null | tail -n 1) || data_dir=
  fi
  if [ -z "$data_dir" ]; then
    if [ -z "${XDG_DATA_HOME:-}" ] && [ "$(uname -s)" = Darwin ]; then
      data_dir=$HOME/Library/Jupyter
    else
      data_dir=$data_home/jupyter
    fi
  fi
  case $data_dir in
    *"$nl"*) die 2 "the Jupyter data directory must not contain a newline" ;;
    /*) data_dir=${data_dir%/} ;;
    *) die 2 "the Jupyter data directory must be an absolute path, got '$data_dir' (JUPYTER_DATA_DIR)" ;;
  esac
}

# What to install: $spec for npm and $source_id, which names it exactly (for the fast path).
resolve_source() {
  pkg=${TSWREN_PACKAGE:-}
  case $pkg in
    '')
      if [ -z "$want_version" ] || [ "$want_version" = latest ] || [ "$want_version" = next ]; then
        tag=${want_version:-latest}
        registry=$(npm config get registry 2>/dev/null) || registry="the npm registry"
        if ! want_version=$(npm view "tswren@$tag" version 2>/dev/null); then
          problem=$(npm view "tswren@$tag" version 2>&1 >/dev/null | grep -v '^npm warn' | head -n 2 | tr '\n' ' ')
          case $problem in
            *E404*) problem="it has no package tswren@$tag" ;;
          esac
          die 5 "cannot get the version of tswren@$tag from $registry: $problem. Check the network or npm's registry setting, or pin a version: sh -s -- 0.1.0"
        fi
        [ -n "$want_version" ] || die 5 "$registry has no tswren@$tag"
      fi
      spec=tswren@$want_version
      source_id=$spec
      ;;
    http://* | https://*)
      spec=$pkg
      source_id=$pkg
      ;;
    *)
      case $pkg in
        file:*) pkg=${pkg#file:} ;;
      esac
      case $pkg in
        /*) ;;
        *) die 2 "TSWREN_PACKAGE must be an absolute path or an http(s) URL, got '$pkg'" ;;
      esac
      [ -f "$pkg" ] || die 5 "TSWREN_PACKAGE '$pkg' does not exist or is not a file (make one with: npm pack -w tswren)"
      tar_version=$(tar -xzOf "$pkg" package/package.json 2>/dev/null |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const p=JSON.parse(s);if(p.name!=="tswren")process.exit(1);console.log(p.version)})' 2>/dev/null) ||
        die 5 "TSWREN_PACKAGE '$pkg' is not an npm tarball of the tswren package"
      if [ -n "$want_version" ] && [ "$want_version" != "$tar_version" ]; then
        die 2 "version $want_version was asked for but TSWREN_PACKAGE holds tswren $tar_version"
      fi
      spec=$pkg
      source_id="$pkg $(cksum <"$pkg")"
      ;;
  esac
}

# True when the stamp matches and every installed piece is still in place.
up_to_date() {
  [ -f "$stamp" ] && [ "$(grep -v '^version=' "$stamp")" = "$new_stamp" ] || return 1
  [ -f "$entry" ] && [ -f "$kernel_dir/kernel.json" ] || return 1
  [ "$(cat "$kernel_dir/kernel.json")" = "$(kernel_json)" ] || return 1
  if grep -qxF -- "tree $labext_dir" "$manifest" 2>/dev/null; then
    [ -f "$labext_dir/package.json" ] || return 1
  fi
  return 0
}

package_version() {
  node -p 'require(process.argv[1] + "/package.json").version' "$1"
}

# kernel.json, byte for byte as `tswren kernel install` writes it (JSON.stringify(spec, null, 2)).
# "interrupt_mode": "message": Jupyter interrupts with interrupt_request, never SIGINT to the group.
kernel_json() {
  printf '{\n  "argv": [\n    %s,\n    %s,\n    "kernel",\n    "--config-path",\n    "{connection_file}"\n  ],\n  "display_name": "%s",\n  "language": "typescript",\n  "interrupt_mode": "message"\n}\n' \
    "$(json_string "$node_path")" "$(json_string "$entry")" "$KERNEL_DISPLAY"
}

json_string() {
  printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')"
}

# mkdir -p that remembers each directory it creates (appended to $created, one a line), so a
# failed run removes them and the manifest lets --uninstall remove them when empty.
make_dir() {
  [ -d "$1" ] && return 0
  [ ! -e "$1" ] || die 4 "cannot create $1: it exists and is not a directory; choose another place with TSWREN_PREFIX / JUPYTER_DATA_DIR"
  make_dir "$(dirname -- "$1")"
  mkdir -- "$1" 2>/dev/null ||
    die 4 "cannot create $1 ($(dirname -- "$1") is not writable); choose a writable place with TSWREN_PREFIX / JUPYTER_DATA_DIR"
  created="$created$1
"
}

writable_dir() {
  make_dir "$1"
  probe=$1/.tswren-write-test.$$
  if ! : 2>/dev/null >"$probe"; then
    die 4 "$1 is not writable; choose a writable place with $2"
  fi
  rm -f -- "$probe"
}

# Undo a failed run: staging folders, and directories created by this run that stayed empty.
on_exit() {
  status=$?
  trap - EXIT INT TERM
  if [ "$status" -ne 0 ]; then
    if [ -n "${committing:-}" ]; then
      say "stopped while replacing the installed files; run the installer again, or remove it with --uninstall"
    fi
    [ -z "${stage:-}" ] || rm -rf -- "$stage"
    [ -z "${labext_stage:-}" ] || rm -rf -- "$labext_stage"
    [ -z "${kernel_stage:-}" ] || rm -rf -- "$kernel_stage"
    remove_empty_dirs "${created:-}"
  fi
  exit "$status"
}

# Remove the listed directories, deepest (last created) first, when they are empty.
remove_empty_dirs() {
  printf '%s' "$1" | sed -n '1!G;h;$p' | while IFS= read -r dir; do
    [ -z "$dir" ] || rmdir -- "$dir" 2>/dev/null || :
  done
}

# Refuse to replace something at $1 that this installer did not write, unless TSWREN_FORCE=1.
check_ours() {
  [ -e "$1" ] || return 0
  grep -qxF -- "tree $1" "$manifest" 2>/dev/null && return 0
  [ -f "$1/$2" ] && grep -qF -- "$3" "$1/$2" && return 0
  [ "${TSWREN_FORCE:-0}" = 1 ] && return 0
  die 4 "$1 exists and was not installed by this installer; remove it or set TSWREN_FORCE=1 to replace it"
}

do_install() {
  created=
  stage=
  labext_stage=
  kernel_stage=
  committing=
  trap on_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  if [ -d "$prefix" ] && [ ! -f "$manifest" ] && [ -n "$(ls -A -- "$prefix" 2>/dev/null)" ]; then
    die 4 "TSWREN_PREFIX $prefix is not empty and holds no tswren install; choose a new or empty folder"
  fi
  writable_dir "$prefix" TSWREN_PREFIX
  writable_dir "$data_dir" JUPYTER_DATA_DIR
  check_ours "$kernel_dir" kernel.json "\"$KERNEL_DISPLAY\""
  check_ours "$labext_dir" package.json "\"$LABEXT_NAME\""

  say "installing $spec with npm into $prefix"
  stage=$prefix/.stage.$$
  mkdir -- "$stage"
  printf '{\n  "private": true,\n  "description": "tswren, installed and managed by install.sh (sh install.sh --uninstall removes it)"\n}\n' >"$stage/package.json"
  if ! (cd "$stage" && npm install --prefix "$stage" --save-exact --ignore-scripts --no-audit --no-fund \
    --no-update-notifier --loglevel=error "$spec") </dev/null >"$stage/npm.log" 2>&1; then
    tail -n 25 "$stage/npm.log" >&2
    die 5 "npm could not install $spec (its output is above); nothing was changed"
  fi
  staged=$stage/node_modules/tswren
  [ -f "$staged/bin/tswren.js" ] || die 6 "the package $spec has no bin/tswren.js; it is not a usable tswren build"
  version=$(package_version "$staged")
  if [ -n "$want_version" ] && [ "$version" != "$want_version" ]; then
    die 5 "asked for tswren $want_version but $spec installed $version"
  fi
  (cd "$stage" && node "$staged/bin/tswren.js" --version) >/dev/null 2>&1 ||
    die 6 "the installed tswren $version does not start: node $staged/bin/tswren.js --version failed"
  tslab=$( (cd "$staged" && node -p 'require.resolve("tslab/package.json")') 2>/dev/null) ||
    die 6 "tswren $version did not bring tslab (its kernel needs it); this tswren build is incomplete"

  tslab_version=$(package_version "$(dirname -- "$tslab")")
  labext_src=$staged/labextension
  if [ ! -f "$labext_src/package.json" ]; then
    labext_src=
    say "warning: tswren $version ships no JupyterLab extension (labextension/); progress shows as HTML"
  fi

  # Stage the kernelspec and the extension beside their final places (same file system).
  make_dir "$data_dir/kernels"
  kernel_stage=$data_dir/kernels/.$KERNEL_NAME.new.$$
  mkdir -- "$kernel_stage"
  kernel_json >"$kernel_stage/kernel.json"
  for logo in logo-32x32.png logo-64x64.png; do
    [ ! -f "$staged/kernelspec/$logo" ] || cp -- "$staged/kernelspec/$logo" "$kernel_stage/$logo"
  done
  if [ -n "$labext_src" ]; then
    make_dir "$(dirname -- "$labext_dir")"
    labext_stage=$(dirname -- "$labext_dir")/.$(basename -- "$labext_dir").new.$$
    cp -R -- "$labext_src" "$labext_stage"
  fi
  old_labext=$(grep -xF -- "tree $labext_dir" "$manifest" 2>/dev/null || :)
  write_manifest >"$stage/install.manifest"

  # Everything fetched, checked and staged: swap the pieces in (renames only). The stamp comes
  # last, so a run cut short here never takes the fast path next time.
  committing=1
  rm -f -- "$stamp"
  for item in node_modules package.json package-lock.json install.manifest; do
    rm -rf -- "${prefix:?}/$item"
    mv -- "$stage/$item" "$prefix/$item"
  done
  rm -rf -- "$kernel_dir"
  mv -- "$kernel_stage" "$kernel_dir"
  if [ -n "$labext_src" ]; then
    rm -rf -- "$labext_dir"
    mv -- "$labext_stage" "$labext_dir"
  elif [ -n "$old_labext" ]; then
    rm -rf -- "$labext_dir"
  fi
  rm -rf -- "$stage"
  printf '%s\nversion=%s\n' "$new_stamp" "$version" >"$stamp"
  trap - EXIT INT TERM
  report
}

# The manifest (on stdout): what --uninstall removes. "tree" paths are removed whole; "dir" paths
# (directories the installer created) only when empty, last created first.
write_manifest() {
  old_dirs=$(sed -n 's/^dir //p' "$manifest" 2>/dev/null || :)
  {
    printf '# written by tswren install.sh; sh install.sh --uninstall removes these\n'
    printf '%s\n%s' "$old_dirs" "$created" | while IFS= read -r dir; do
      [ -z "$dir" ] || printf 'dir %s\n' "$dir"
    done
    printf 'tree %s\n' "$kernel_dir"
    [ -z "$labext_src" ] || printf 'tree %s\n' "$labext_dir"
    for item in node_modules package.json package-lock.json install.stamp install.manifest; do
      printf 'tree %s\n' "$prefix/$item"
    done
  }
}

report() {
  printf 'tswren %s installed (Node.js %s at %s)\n' "$version" "$node_version" "$node_path"
  printf '  package:   %s (with tslab %s)\n' "$prefix/node_modules/tswren" "$tslab_version"
  printf '  command:   %s\n' "$prefix/node_modules/.bin/tswren"
  printf '  kernel:    "%s" in %s\n' "$KERNEL_DISPLAY" "$kernel_dir"
  if [ -n "$labext_src" ]; then
    printf '  extension: %s\n' "$labext_dir"
  fi
  printf 'Next: reload the JupyterLab page, then pick the kernel "%s" (Kernel > Change Kernel).\n' "$KERNEL_DISPLAY"
  printf 'Remove it all with: sh install.sh --uninstall (or curl ... | sh -s -- --uninstall)\n'
}

uninstall() {
  if [ ! -f "$manifest" ]; then
    say "no tswren install found in $prefix (no $manifest); nothing to remove"
    return 0
  fi
  entries=$(grep -v '^#' "$manifest") || entries=
  printf '%s\n' "$entries" | while IFS= read -r line; do
    case $line in
      "tree "/?*) rm -rf -- "${line#tree }" ;;
    esac
  done
  dirs=$(printf '%s\n' "$entries" | sed -n 's/^dir //p')
  remove_empty_dirs "$dirs
"
  say "removed tswren from $prefix and its Jupyter kernel and extension"
}

tswren_install_main "$@"
