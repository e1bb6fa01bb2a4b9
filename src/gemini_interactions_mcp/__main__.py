from gemini_interactions_mcp.cli import main

main()
