#!/usr/bin/env sh
# Register the installed server with Claude Code for your user (every project); the key is kept
# in Claude Code's config and passed to the server's environment.
# Options come before the server name (https://code.claude.com/docs/en/mcp), and --env is not
# the last of them: it takes several values and would take the name as one of them
# (https://github.com/anthropics/claude-code/issues/62332).
claude mcp add --env GEMINI_API_KEY="$GEMINI_API_KEY" --scope user gemini -- gemini-interactions-mcp
