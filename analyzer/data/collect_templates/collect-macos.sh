#!/bin/bash
# Collects what analyzer needs from this Mac into one zip with manifest.json (the layout and manifest
# of `analyze collect`). Needs nothing but macOS itself (bash 3.2, find, stat, shasum, zip).
#   bash collect-macos.sh [--out FILE] [--since-days N] [--root DIR]
# Run with sudo to include every user's folders; without it, your own. Backups: only their metadata
# files (Info.plist, Manifest.plist, Status.plist, Manifest.db) and a listing, never their content.
# @@GENERATED@@
set -u
ROOT=/
OUT=""
SINCE_DAYS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --since-days) SINCE_DAYS=$2; shift 2 ;;
    --root) ROOT=$2; shift 2 ;;
    *) echo "usage: $0 [--out FILE] [--since-days N] [--root DIR]" >&2; exit 2 ;;
  esac
done
ROOT=${ROOT%/}
LIVE=0; [ -z "$ROOT" ] && LIVE=1
HOST=$(hostname 2>/dev/null || echo mac)
[ -n "$OUT" ] || OUT="$PWD/analyzer-${HOST%%.*}-$(date +%Y%m%d-%H%M%S).zip"
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
case "$OUT/" in "$ROOT"/*) [ "$LIVE" = 0 ] && { echo "--out must not be inside $ROOT" >&2; exit 2; } ;; esac
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/analyzer-collect.XXXXXX") || exit 1
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/bundle/files"
if stat -c %s / >/dev/null 2>&1; then GNU=1; else GNU=0; fi
if command -v shasum >/dev/null 2>&1; then SHA="shasum -a 256"; else SHA="sha256sum"; fi
NOW=$(date +%s)
CUTOFF=0; [ "$SINCE_DAYS" -gt 0 ] 2>/dev/null && CUTOFF=$((NOW - SINCE_DAYS * 86400))
shopt -s nocasematch nullglob

json() { local s=$1; s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\t'/\\t}; s=${s//$'\n'/\\n}; s=${s//$'\r'/\\r}; printf '"%s"' "$s"; }
size_of() { if [ $GNU = 1 ]; then stat -c %s "$1"; else stat -f %z "$1"; fi; }
mtime_of() { if [ $GNU = 1 ]; then stat -c %Y "$1"; else stat -f %m "$1"; fi; }
iso() { if [ $GNU = 1 ]; then date -u -d "@$1" +%Y-%m-%dT%H:%M:%S+00:00; else date -u -r "$1" +%Y-%m-%dT%H:%M:%S+00:00; fi; }
emit() { if [ -s "$STAGE/$1" ]; then printf ',\n' >> "$STAGE/$1"; fi; printf '%s' "$2" >> "$STAGE/$1"; }
original() { echo "/$1"; }
finder() { if [ "$1" = 1 ]; then find -P "$2" -maxdepth 1 -type "$3"; else find -P "$2" -type "$3"; fi 2>/dev/null; }

# folders ROOT/<pattern>, each * expanded, links never entered
folders() {
  local list="${ROOT:-/}" part d e next parts i
  IFS=/ read -r -a parts <<< "$1"
  for i in "${!parts[@]}"; do
    part=${parts[$i]}
    [ -z "$part" ] && continue
    next=""
    local IFS=$'\n'
    for d in $list; do
      if [[ "$part" == *"*"* ]]; then
        for e in "${d%/}"/$part; do
          case "${e##*/}" in @@SKIP_CASE@@) continue ;; esac
          if [ -L "$e" ]; then notfollowed "$e"; elif [ -d "$e" ]; then next="$next$e"$'\n'; fi
        done
      else
        e="${d%/}/$part"
        if [ -L "$e" ]; then notfollowed "$e"; elif [ -d "$e" ]; then next="$next$e"$'\n'; fi
      fi
    done
    list=$next
  done
  printf '%s' "$list"
}

notfollowed() { emit notfollowed "{\"path\": $(json "$(original "${1#$ROOT/}")"), \"read_from\": $(json "$1"), \"reason\": \"symbolic link, not followed\"}"; }

take() {  # file location kind dated how
  local IFS=$' \t\n' f=$1 rel=${1#$ROOT/} m size sum err
  m=$(mtime_of "$f") || m=0
  if [ "$4" = 1 ] && [ "$CUTOFF" -gt 0 ] && [ "$m" -lt "$CUTOFF" ]; then
    emit old "{\"path\": $(json "$(original "$rel")"), \"location\": \"$2\", \"mtime\": \"$(iso "$m")\"}"; return 0
  fi
  mkdir -p "$STAGE/bundle/files/root/$(dirname "$rel")"
  if ! err=$(cp -p "$f" "$STAGE/bundle/files/root/$rel" 2>&1); then
    emit unreadable "{\"path\": $(json "$(original "$rel")"), \"location\": \"$2\", \"reason\": $(json "${err##*: }")}"; return 0
  fi
  size=$(size_of "$f"); sum=$($SHA "$STAGE/bundle/files/root/$rel" | cut -d' ' -f1)
  emit files "{\"member\": $(json "files/root/$rel"), \"original_path\": $(json "$(original "$rel")"), \"size\": $size, \"mtime\": \"$(iso "$m")\", \"sha256\": \"$sum\", \"obtained\": \"$5\", \"location\": \"$2\", \"kind\": \"$3\"}"
  echo "$3" >> "$STAGE/kinds"
  FOUND=$((FOUND + 1))
}

location() {  # id kind take dated folder regex
  local id=$1 kind=$2 how=$3 dated=$4 folder=$5 regex=$6 flat=1 d f rel got=0
  case "$regex" in */*) flat=0 ;; esac
  IFS=$'\n'
  for d in $(folders "$folder"); do
    if [ "$how" = backup ]; then
      for f in "$d"/*; do
        [ -d "$f" ] && [ ! -L "$f" ] || continue
        backup "$f" "$id"; got=1
      done
      continue
    fi
    for f in $(finder $flat "$d" l); do rel=${f#$d/}; [[ "$rel" =~ ^$regex$ ]] && notfollowed "$f"; done
    for f in $(finder $flat "$d" f | sort); do
      rel=${f#$d/}
      [[ "$rel" =~ ^$regex$ ]] || continue
      take "$f" "$id" "$kind" "$dated" copied; got=1
    done
  done
  unset IFS
  if [ $got = 0 ]; then
    emit notfound "{\"location\": \"$id\", \"kind\": \"$kind\", \"looked_in\": [$(json "/$folder")], \"why\": \"not found\"}"
    echo "$kind" >> "$STAGE/missing"
  fi
}

listing_lines() {  # folder: "f<TAB>size<TAB>name" / "d<TAB>0<TAB>name" per entry below it, links left out
  if [ $GNU = 1 ]; then
    (cd "$1" && find -P . -mindepth 1 \( -type f -printf 'f\t%s\t%P\n' \) -o \( -type d -printf 'd\t0\t%P\n' \))
  else
    (cd "$1" && find -P . -mindepth 1 \( -type f -exec stat -f 'f%t%z%t%N' {} + \) -o \( -type d -exec stat -f 'd%t0%t%N' {} + \))
  fi 2>/dev/null | sort -t "$(printf '\t')" -k3
}

backup() {  # folder id: metadata files taken; the listing beside them in the bundle and (first 2000) in the manifest
  local IFS=$' \t\n' d=$1 rel=${1#$ROOT/} name kind size n=0 sidecar
  for name in Info.plist Manifest.plist Status.plist Manifest.db; do
    [ -f "$d/$name" ] && [ ! -L "$d/$name" ] && take "$d/$name" "$2" backup 0 "copied (backup metadata file)"
  done
  mkdir -p "$STAGE/bundle/files/root/$rel"
  sidecar="$STAGE/bundle/files/root/$rel/.analyzer-listing.json"
  listing_lines "$d" > "$STAGE/lines"
  : > "$STAGE/listing"
  printf '{"format": "analyzer-backup-listing", "folder": %s, "entries": [' "$(json "/$rel")" > "$sidecar"
  local first=1
  while IFS=$'\t' read -r kind size name; do
    name=${name#./}
    [ -n "$name" ] || continue
    [ $first = 1 ] || printf ', ' >> "$sidecar"; first=0
    if [ "$kind" = d ]; then printf '{"name": %s, "dir": true}' "$(json "$name")" >> "$sidecar"; continue; fi
    printf '{"name": %s, "size": %s}' "$(json "$name")" "$size" >> "$sidecar"
    if [ $n -lt 2000 ]; then [ $n -gt 0 ] && printf ', ' >> "$STAGE/listing"; printf '{"name": %s, "size": %s}' "$(json "$name")" "$size" >> "$STAGE/listing"; fi
    n=$((n + 1))
  done < "$STAGE/lines"
  printf ']}' >> "$sidecar"
  emit backups "{\"folder\": $(json "/$rel"), \"location\": \"$2\", \"member\": $(json "files/root/$rel"), \"listing\": [$(cat "$STAGE/listing")], \"entries\": $n, \"content\": \"not collected (metadata files only)\", \"listing_member\": $(json "files/root/$rel/.analyzer-listing.json")}"
  echo backup >> "$STAGE/kinds"
}

command_location() {  # id kind output argv...
  local id=$1 kind=$2 out=$3; shift 3
  if [ $LIVE = 0 ]; then
    emit notfound "{\"location\": \"$id\", \"kind\": \"$kind\", \"looked_in\": [$(json "/$out")], \"why\": \"only on the live machine\"}"
    return 0
  fi
  mkdir -p "$STAGE/bundle/files/root"
  if "$@" > "$STAGE/bundle/files/root/$out" 2>"$STAGE/err"; then
    local sum size; sum=$($SHA "$STAGE/bundle/files/root/$out" | cut -d' ' -f1); size=$(size_of "$STAGE/bundle/files/root/$out")
    emit files "{\"member\": $(json "files/root/$out"), \"original_path\": $(json "output of: $*"), \"size\": $size, \"mtime\": \"$(iso "$NOW")\", \"sha256\": \"$sum\", \"obtained\": \"command output\", \"location\": \"$id\", \"kind\": \"$kind\"}"
    echo "$kind" >> "$STAGE/kinds"; FOUND=$((FOUND + 1))
  else
    emit unreadable "{\"path\": $(json "$*"), \"location\": \"$id\", \"reason\": $(json "$1 failed: $(head -c 300 "$STAGE/err")")}"
    rm -f "$STAGE/bundle/files/root/$out"
  fi
}

FOUND=0
: > "$STAGE/kinds"; : > "$STAGE/missing"
SINCE_ARG=30d; [ "$SINCE_DAYS" -gt 0 ] 2>/dev/null && SINCE_ARG="${SINCE_DAYS}d"
@@LOCATIONS@@

list() { [ -s "$STAGE/$1" ] && cat "$STAGE/$1"; }
kinds_json() { sort -u "$1" | awk 'NF { printf "%s\"%s\"", (n++ ? ", " : ""), $0 }'; }
sort -u "$STAGE/kinds" > "$STAGE/present"
grep -vxF -f "$STAGE/present" "$STAGE/missing" > "$STAGE/absent" 2>/dev/null || true
{
  printf '{\n "format": "analyzer-collection",\n "format_version": 1,\n "analyzer": "collect-macos.sh",\n'
  printf ' "created": "%s",\n "host": %s,\n "live": %s,\n' "$(iso "$NOW")" "$(json "$HOST")" "$([ $LIVE = 1 ] && echo true || echo false)"
  printf ' "since": %s,\n "redacted": false,\n' "$([ "$CUTOFF" -gt 0 ] && echo "\"$(iso "$CUTOFF")\"" || echo null)"
  printf ' "roots": [{"path": %s, "os": "macos", "drive": null, "profile": false}],\n' "$(json "${ROOT:-/}")"
  printf ' "backups_policy": "backup folders: only Info.plist, Manifest.plist, Status.plist and Manifest.db are taken, with a listing of the folder; the backup'"'"'s content is never collected",\n'
  printf ' "files": [\n%s\n ],\n' "$(list files)"
  printf ' "not_found": [\n%s\n ],\n' "$(list notfound)"
  printf ' "unreadable": [\n%s\n ],\n' "$(list unreadable)"
  printf ' "not_followed": [\n%s\n ],\n' "$(list notfollowed)"
  printf ' "older_than_since": [\n%s\n ],\n' "$(list old)"
  printf ' "backups": [\n%s\n ],\n' "$(list backups)"
  printf ' "kinds": {"present": [%s], "missing": [%s]}\n}\n' "$(kinds_json "$STAGE/present")" "$(kinds_json "$STAGE/absent")"
} > "$STAGE/bundle/manifest.json"
rm -f "$OUT"
(cd "$STAGE/bundle" && zip -q -r -X "$OUT" manifest.json files) || exit 1
echo "collect-macos.sh: $FOUND file(s) into $OUT" >&2
[ -s "$STAGE/unreadable" ] && { echo "some files could not be read: see manifest.json" >&2; exit 3; }
exit 0
