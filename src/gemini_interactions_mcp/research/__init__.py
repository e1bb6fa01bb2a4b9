"""Deep Research: the monitor that tails running research and records it."""
