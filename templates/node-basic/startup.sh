#!/bin/sh
# Runs when the workspace is created and again at every start_workspace, so it must be
# idempotent; create_workspace waits for it before the agent uses the files.
# It makes the workspace a git repository with one commit, so `git diff` shows the agent's changes.
set -e
if [ -d .git ]; then
  echo "git repository already present"
elif command -v git >/dev/null 2>&1; then
  git init -q
  git add -A
  git -c user.name=agentgraph -c user.email=agentgraph@localhost commit -q -m "Start from the node-basic template"
  echo "git repository initialised"
else
  echo "git is not installed; skipping the repository"
fi
