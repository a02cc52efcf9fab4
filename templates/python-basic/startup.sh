#!/bin/sh
# Runs when the workspace is created and again at every start_workspace, so it must be
# idempotent; create_workspace waits for it before the agent uses the files.
# It checks the interpreter and makes the workspace a git repository with one commit.
set -e
if command -v python3 >/dev/null 2>&1; then
  python3 --version
else
  echo "warning: python3 is not installed on this host"
fi
if [ -d .git ]; then
  echo "git repository already present"
elif command -v git >/dev/null 2>&1; then
  git init -q
  git add -A
  git -c user.name=agentgraph -c user.email=agentgraph@localhost commit -q -m "Start from the python-basic template"
  echo "git repository initialised"
fi
