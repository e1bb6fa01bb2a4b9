#!/usr/bin/env sh
# Try the server in Claude Code without an API key: the built-in offline emulator answers
# (scripted replies, no Gemini). Remove it again with: claude mcp remove --scope user gemini-emulator
claude mcp add --scope user gemini-emulator -- gemini-interactions-mcp --emulator
