"""Deep Research: the service, the monitor that tails running research, and the tools."""

REPORT_URI = "gemini://research/{research_id}/report"
