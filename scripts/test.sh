#!/usr/bin/env bash
# The whole test suite: types, unit and integration tests (real PostgreSQL and
# SQS/S3 emulator), then end-to-end tests in Debian's chromium.
# Usage: npm test            everything
#        npm run test:unit   types + node tests only
#        npm run test:e2e    browser tests only
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1 CHECKPOINT_DISABLE=1 TURBO_TELEMETRY_DISABLED=1 NODE_ENV=test
# Node 20 is supported here; the SDK's upgrade notice would repeat in every test process.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
what="${1:-all}"

if [[ "$what" == all || "$what" == unit ]]; then
  echo "== typecheck"
  npx tsc -p tsconfig.json --noEmit
  echo "== unit and integration tests"
  mapfile -t files < <(find packages apps -path '*/node_modules' -prune -o -path '*/.next' -prune -o -name '*.test.ts' -print | sort)
  node --import tsx --test --test-reporter=spec "${files[@]}"
fi

if [[ "$what" == all || "$what" == e2e ]]; then
  echo "== end-to-end tests (Playwright, $(${LUCID_CHROMIUM:-/usr/bin/chromium} --version 2>/dev/null || echo 'chromium not found'))"
  node --import tsx e2e/run.ts
fi
