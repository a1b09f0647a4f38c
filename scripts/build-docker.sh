#!/usr/bin/env bash
# Build the Axon container image and tag it IMAGE_NAME:VERSION and IMAGE_NAME:latest.
#
#   scripts/build-docker.sh [--push] [--dry-run]
#
# IMAGE_NAME  image name, optionally with a registry prefix (default axon-api)
# VERSION     tag (default: the package version in src/axon/__init__.py)
# DOCKER      docker client to use (default docker)
# --push      also push both tags (needs a registry prefix in IMAGE_NAME)
# --dry-run   print the commands instead of running them
set -euo pipefail
SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$SELF")/.."

PUSH=0
DRY_RUN=0
for arg in "$@"; do
  case "$arg" in
    --push) PUSH=1 ;;
    --dry-run) DRY_RUN=1 ;;
    -h | --help)
      sed -n '2,11p' "$SELF" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "unknown option: $arg (see --help)" >&2
      exit 2
      ;;
  esac
done

IMAGE_NAME="${IMAGE_NAME:-axon-api}"
VERSION="${VERSION:-$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' src/axon/__init__.py)}"
DOCKER="${DOCKER:-docker}"
if [ -z "$VERSION" ]; then
  echo "could not read the version from src/axon/__init__.py; set VERSION" >&2
  exit 1
fi
REVISION="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"

run() {
  if [ "$DRY_RUN" = 1 ]; then
    printf '+ %s\n' "$*"
  else
    "$@"
  fi
}

echo "building $IMAGE_NAME:$VERSION (revision $REVISION)"
run "$DOCKER" build \
  --build-arg "VERSION=$VERSION" \
  --build-arg "REVISION=$REVISION" \
  --tag "$IMAGE_NAME:$VERSION" \
  --tag "$IMAGE_NAME:latest" \
  .
if [ "$PUSH" = 1 ]; then
  run "$DOCKER" push "$IMAGE_NAME:$VERSION"
  run "$DOCKER" push "$IMAGE_NAME:latest"
fi
[ "$DRY_RUN" = 1 ] || echo "built $IMAGE_NAME:$VERSION and $IMAGE_NAME:latest"
