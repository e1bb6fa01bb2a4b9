#!/usr/bin/env sh
# Register the server with Claude Code (user scope). The key is passed to the server's environment.
claude mcp add gemini --scope user --env GEMINI_API_KEY="$GEMINI_API_KEY" -- uvx gemini-interactions-mcp
