#!/usr/bin/env bash
# Deploy Axon, or roll back the last deployment.
#
#   scripts/deploy.sh [options] ENV          deploy to ENV (production, staging, development)
#   scripts/deploy.sh --rollback [ENV]       go back to the previous deployment (default production)
#
# Options:
#   --method compose|swarm|k8s   how to deploy (asked when omitted on a terminal, else required;
#                                a rollback reuses the method of the last deployment)
#   --version TAG    image tag to deploy (default: the package version)
#   --yes            do not ask for confirmation
#   --dry-run        print the plan (every command) and exit; nothing runs
#   --skip-checks    skip the pre-deployment checks (lint, types, tests)
#   -h, --help       this text
#
# Environment:
#   IMAGE_NAME       image name, with registry prefix for swarm/k8s (default axon-api)
#   API_URL          where to check health after a compose/swarm deploy (http://localhost:3000)
#   HEALTH_TIMEOUT   seconds to wait for /health/ready (default 180)
#   AXON_SMOKE_API_KEY  read-scope key the smoke test sends when auth is on
#   DEPLOY_STATE_DIR    where deployed versions are recorded (default .deploy)
#   STACK_NAME       swarm stack name (default axon)
#
# Steps: validate the environment, pre-deployment checks, deploy, wait for health,
# smoke test, show /health. A compose deployment records the image tag it replaced,
# which is what --rollback starts again; Kubernetes rolls back with `kubectl rollout undo`.
set -euo pipefail
SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
ROOT="$(cd "$(dirname "$SELF")/.." && pwd)"
cd "$ROOT"

ENV_NAME=""
METHOD=""
VERSION=""
ASSUME_YES=0
DRY_RUN=0
ROLLBACK=0
SKIP_CHECKS=0

usage() { sed -n '2,28p' "$SELF" | sed 's/^# \{0,1\}//'; }
die() {
  echo "deploy: $*" >&2
  exit 1
}
step() { printf '\n==> %s\n' "$*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --method)
      [ $# -ge 2 ] || die "--method needs a value: compose, swarm or k8s"
      METHOD="$2"
      shift 2
      ;;
    --method=*)
      METHOD="${1#*=}"
      shift
      ;;
    --version)
      [ $# -ge 2 ] || die "--version needs a value"
      VERSION="$2"
      shift 2
      ;;
    --yes | -y)
      ASSUME_YES=1
      shift
      ;;
    --dry-run)
      DRY_RUN=1
      shift
      ;;
    --rollback)
      ROLLBACK=1
      shift
      ;;
    --skip-checks)
      SKIP_CHECKS=1
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    -*)
      echo "deploy: unknown option $1" >&2
      usage >&2
      exit 2
      ;;
    *)
      [ -z "$ENV_NAME" ] || die "only one environment may be given"
      ENV_NAME="$1"
      shift
      ;;
  esac
done

if [ -z "$ENV_NAME" ]; then
  if [ "$ROLLBACK" = 1 ]; then
    ENV_NAME="production"
  else
    usage >&2
    exit 2
  fi
fi
case "$ENV_NAME" in
  production | staging | development) ;;
  *) die "unknown environment '$ENV_NAME' (production, staging or development)" ;;
esac

STATE_DIR="${DEPLOY_STATE_DIR:-$ROOT/.deploy}"
IMAGE_NAME="${IMAGE_NAME:-axon-api}"
API_URL="${API_URL:-http://localhost:3000}"
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-180}"
STACK_NAME="${STACK_NAME:-axon}"
COMPOSE_FILE_PROD="docker-compose.prod.yml"
ENV_FILE=".env.$ENV_NAME"
PACKAGE_VERSION="$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' src/axon/__init__.py)"
VERSION="${VERSION:-$PACKAGE_VERSION}"

if [ -z "$METHOD" ] && [ "$ROLLBACK" = 1 ]; then
  # A rollback reuses the method of the last deployment; with none recorded there is
  # nothing this script deployed, so nothing it can roll back.
  [ -f "$STATE_DIR/$ENV_NAME.method" ] ||
    die "nothing to roll back: no deployment of $ENV_NAME is recorded in $STATE_DIR (for one made by hand, pass --method compose|swarm|k8s)"
  METHOD="$(cat "$STATE_DIR/$ENV_NAME.method")"
fi
if [ -z "$METHOD" ]; then
  if [ -t 0 ] && [ "$DRY_RUN" = 0 ]; then
    echo "Deployment method: 1) Docker Compose  2) Docker Swarm  3) Kubernetes"
    read -r -p "Choose [1-3]: " choice
    case "$choice" in
      1) METHOD=compose ;;
      2) METHOD=swarm ;;
      3) METHOD=k8s ;;
      *) die "no method chosen" ;;
    esac
  else
    die "--method compose|swarm|k8s is required when not running on a terminal"
  fi
fi
case "$METHOD" in
  compose | swarm | k8s) ;;
  *) die "unknown method '$METHOD' (compose, swarm or k8s)" ;;
esac

# Print a command (dry run) or run it.
run() {
  if [ "$DRY_RUN" = 1 ]; then
    printf '+ %s\n' "$*"
  else
    "$@"
  fi
}

compose() {
  # Compose v2 ("docker compose") when available, else the standalone docker-compose.
  # Settings and secrets come from .env.ENV when it exists, else from compose's own .env.
  local cmd=(docker compose) files=(-f "$COMPOSE_FILE_PROD")
  if [ "$DRY_RUN" = 0 ] && ! docker compose version >/dev/null 2>&1; then
    cmd=(docker-compose)
  fi
  if [ -f "$ENV_FILE" ]; then
    files=(--env-file "$ENV_FILE" "${files[@]}")
  fi
  run env AXON_VERSION="$AXON_VERSION" AXON_IMAGE="$IMAGE_NAME" "${cmd[@]}" "${files[@]}" "$@"
}

record() {
  # record NAME VALUE: remember deployment facts for the next run (and --rollback).
  if [ "$DRY_RUN" = 1 ]; then
    printf '+ record %s=%s in %s\n' "$1" "$2" "$STATE_DIR"
  else
    mkdir -p "$STATE_DIR"
    printf '%s\n' "$2" >"$STATE_DIR/$ENV_NAME.$1"
  fi
}

recalled() {
  if [ -f "$STATE_DIR/$ENV_NAME.$1" ]; then cat "$STATE_DIR/$ENV_NAME.$1"; fi
}

confirm() {
  [ "$ASSUME_YES" = 1 ] || [ "$DRY_RUN" = 1 ] && return 0
  [ -t 0 ] || die "refusing to $1 without --yes when not running on a terminal"
  read -r -p "$1? [y/N] " answer
  case "$answer" in
    y | Y | yes) ;;
    *) die "cancelled" ;;
  esac
}

PROBLEMS=0
problem() {
  # Validation failures stop a real run; a dry run lists them and goes on.
  if [ "$DRY_RUN" = 1 ]; then
    echo "  ! $*"
  else
    echo "deploy: $*" >&2
    PROBLEMS=$((PROBLEMS + 1))
  fi
}

need_tool() { command -v "$1" >/dev/null 2>&1 || problem "$1 is not installed (needed for --method $METHOD)"; }

validate() {
  step "1. Validate environment ($ENV_NAME, method $METHOD)"
  [ -n "$PACKAGE_VERSION" ] || problem "cannot read the version from src/axon/__init__.py"
  need_tool curl
  case "$METHOD" in
    compose | swarm)
      need_tool docker
      [ -f "$COMPOSE_FILE_PROD" ] || problem "$COMPOSE_FILE_PROD is missing"
      local settings_file="$ENV_FILE"
      [ -f "$settings_file" ] || settings_file=".env"
      if [ -f "$settings_file" ]; then
        echo "  settings and secrets from $settings_file"
        grep -q '^OPENAI_API_KEY=.' "$settings_file" ||
          echo "  note: OPENAI_API_KEY is not set: answers are context-only"
      else
        echo "  note: neither $ENV_FILE nor .env exists (see deploy/env/production.env.example)"
      fi
      ;;
    k8s)
      need_tool kubectl
      need_tool docker
      [ -f k8s/deployment.yaml ] || problem "k8s/deployment.yaml is missing"
      if [ "$DRY_RUN" = 0 ] && command -v kubectl >/dev/null 2>&1; then
        kubectl get secret axon-secrets >/dev/null 2>&1 ||
          problem "secret axon-secrets not found: fill in a copy of k8s/secrets.yaml and apply it"
      fi
      ;;
  esac
  [ "$PROBLEMS" = 0 ] || die "environment validation failed ($PROBLEMS problem(s))"
}

pre_checks() {
  step "2. Pre-deployment checks"
  if [ "$SKIP_CHECKS" = 1 ]; then
    echo "  skipped (--skip-checks)"
    return
  fi
  if [ -n "$(git status --porcelain 2>/dev/null)" ]; then
    echo "  note: the working tree has uncommitted changes"
  fi
  run scripts/test.sh -q
}

wait_for_health() {
  # wait_for_health URL: poll /health/ready until it answers 200.
  local url="$1" deadline
  step "4. Wait for $url/health/ready (up to ${HEALTH_TIMEOUT}s)"
  if [ "$DRY_RUN" = 1 ]; then
    printf '+ curl -fsS %s/health/ready  (repeated until 200)\n' "$url"
    return 0
  fi
  deadline=$((SECONDS + HEALTH_TIMEOUT))
  until curl -fsS -o /dev/null "$url/health/ready"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "deploy: not ready after ${HEALTH_TIMEOUT}s" >&2
      curl -sS "$url/health/ready" >&2 || true
      return 1
    fi
    sleep 2
  done
  echo "  ready"
}

smoke_test() {
  local url="$1" curl_home=""
  step "5. Smoke test against $url"
  if [ -n "${AXON_SMOKE_API_KEY:-}" ]; then
    # The smoke test is the runbook's script, unchanged; curl adds the key from a
    # private config file (never on a command line, where `ps` would show it).
    curl_home="$(mktemp -d)"
    (umask 077 && printf 'header = "X-API-Key: %s"\n' "$AXON_SMOKE_API_KEY" >"$curl_home/.curlrc")
  fi
  if [ "$DRY_RUN" = 1 ]; then
    printf '+ API_URL=%s scripts/smoke-test.sh\n' "$url"
  elif [ -n "$curl_home" ]; then
    CURL_HOME="$curl_home" API_URL="$url" scripts/smoke-test.sh || {
      rm -rf "$curl_home"
      return 1
    }
  else
    API_URL="$url" scripts/smoke-test.sh
  fi
  [ -z "$curl_home" ] || rm -rf "$curl_home"
}

show_health() {
  step "6. Health"
  if [ "$DRY_RUN" = 1 ]; then
    printf '+ curl -sS %s/health\n' "$1"
  else
    curl -sS "$1/health"
    echo
  fi
}

failed() {
  echo "deploy: $1" >&2
  echo "deploy: to go back to the previous version run: $SELF --rollback $ENV_NAME" >&2
  exit 1
}

K8S_PORT_FORWARD_PID=""
k8s_url() {
  # Reach the service through a port-forward, as the runbook does.
  if [ "$DRY_RUN" = 1 ]; then
    printf '+ kubectl port-forward service/axon-api 3000:3000 &\n' >&2
    echo "http://127.0.0.1:3000"
    return
  fi
  kubectl port-forward service/axon-api 3000:3000 >/dev/null 2>&1 &
  K8S_PORT_FORWARD_PID=$!
  sleep 2
  echo "http://127.0.0.1:3000"
}
stop_port_forward() {
  if [ -n "$K8S_PORT_FORWARD_PID" ]; then
    kill "$K8S_PORT_FORWARD_PID" 2>/dev/null || true
    K8S_PORT_FORWARD_PID=""
  fi
}
trap stop_port_forward EXIT

deploy_compose() {
  local previous
  previous="$(recalled version)"
  step "3. Deploy $IMAGE_NAME:$VERSION with Docker Compose (replacing ${previous:-nothing recorded})"
  run env IMAGE_NAME="$IMAGE_NAME" VERSION="$VERSION" scripts/build-docker.sh
  AXON_VERSION="$VERSION"
  compose up -d --remove-orphans
  if [ -n "$previous" ] && [ "$previous" != "$VERSION" ]; then
    record previous "$previous"
  fi
  record version "$VERSION"
  record method compose
  wait_for_health "$API_URL" || failed "the new version did not become ready"
  smoke_test "$API_URL" || failed "the smoke test failed"
  show_health "$API_URL"
}

deploy_swarm() {
  step "3. Deploy $IMAGE_NAME:$VERSION as swarm stack $STACK_NAME"
  run env IMAGE_NAME="$IMAGE_NAME" VERSION="$VERSION" scripts/build-docker.sh --push
  run env AXON_VERSION="$VERSION" AXON_IMAGE="$IMAGE_NAME" \
    docker stack deploy --with-registry-auth -c "$COMPOSE_FILE_PROD" "$STACK_NAME"
  record version "$VERSION"
  record method swarm
  wait_for_health "$API_URL" || failed "the new version did not become ready"
  smoke_test "$API_URL" || failed "the smoke test failed"
  show_health "$API_URL"
}

deploy_k8s() {
  local url
  step "3. Deploy $IMAGE_NAME:$VERSION to Kubernetes (context $(kubectl config current-context 2>/dev/null || echo unknown))"
  run env IMAGE_NAME="$IMAGE_NAME" VERSION="$VERSION" scripts/build-docker.sh --push
  run kubectl apply -f k8s/configmap.yaml
  run kubectl apply -f k8s/deployment.yaml -f k8s/worker-deployment.yaml \
    -f k8s/service.yaml -f k8s/hpa.yaml
  run kubectl set image deployment/axon-api "api=$IMAGE_NAME:$VERSION"
  run kubectl set image deployment/axon-worker "worker=$IMAGE_NAME:$VERSION"
  run kubectl annotate deployment/axon-api "kubernetes.io/change-cause=deploy $VERSION" --overwrite
  record version "$VERSION"
  record method k8s
  step "4. Wait for the rollout"
  run kubectl rollout status deployment/axon-api --timeout="${HEALTH_TIMEOUT}s" ||
    failed "the rollout did not complete"
  run kubectl rollout status deployment/axon-worker --timeout="${HEALTH_TIMEOUT}s" ||
    failed "the worker rollout did not complete"
  url="$(k8s_url)"
  wait_for_health "$url" || failed "the service is not ready"
  smoke_test "$url" || failed "the smoke test failed"
  show_health "$url"
}

rollback() {
  local previous current url
  case "$METHOD" in
    compose)
      previous="$(recalled previous)"
      current="$(recalled version)"
      [ -n "$previous" ] || die "no previous version recorded in $STATE_DIR for $ENV_NAME"
      step "Roll back $ENV_NAME from ${current:-?} to $IMAGE_NAME:$previous (Docker Compose)"
      confirm "roll back $ENV_NAME to $previous"
      AXON_VERSION="$previous"
      compose up -d --remove-orphans
      record version "$previous"
      [ -z "$current" ] || record previous "$current"
      wait_for_health "$API_URL" || die "the previous version did not become ready either"
      show_health "$API_URL"
      ;;
    swarm)
      step "Roll back swarm stack $STACK_NAME"
      confirm "roll back $STACK_NAME"
      run docker service rollback "${STACK_NAME}_api"
      run docker service rollback "${STACK_NAME}_worker"
      wait_for_health "$API_URL" || die "the previous version did not become ready either"
      show_health "$API_URL"
      ;;
    k8s)
      step "Roll back deployment/axon-api (Kubernetes)"
      confirm "roll back deployment/axon-api"
      run kubectl rollout undo deployment/axon-api
      run kubectl rollout undo deployment/axon-worker
      run kubectl rollout status deployment/axon-api --timeout="${HEALTH_TIMEOUT}s"
      url="$(k8s_url)"
      wait_for_health "$url" || die "the previous revision is not ready either"
      show_health "$url"
      ;;
  esac
}

if [ "$DRY_RUN" = 1 ]; then
  echo "Plan (dry run: nothing is executed)"
fi
if [ "$ROLLBACK" = 1 ]; then
  rollback
  exit 0
fi
validate
confirm "deploy $IMAGE_NAME:$VERSION to $ENV_NAME with $METHOD"
pre_checks
case "$METHOD" in
  compose) deploy_compose ;;
  swarm) deploy_swarm ;;
  k8s) deploy_k8s ;;
esac
step "Deployed $IMAGE_NAME:$VERSION to $ENV_NAME ($METHOD)"
