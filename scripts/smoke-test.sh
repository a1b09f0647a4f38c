#!/bin/bash
set -e

API_URL="${API_URL:-http://localhost:3000}"

echo "Running smoke tests..."

# Health check
echo "1. Testing health endpoint..."
curl -f "$API_URL/health" || { echo "Health check failed"; exit 1; }

# Readiness check
echo "2. Testing readiness endpoint..."
curl -f "$API_URL/health/ready" || { echo "Readiness check failed"; exit 1; }

# Process prompt (requires test workspace)
echo "3. Testing prompt processing..."
curl -f -X POST "$API_URL/api/v1/prompts/process" \
  -H "Content-Type: application/json" \
  -d '{
    "prompt": "What is this project about?",
    "workspaceId": "test-workspace",
    "source": "api"
  }' || { echo "Prompt processing failed"; exit 1; }

echo "âœ… All smoke tests passed!"
