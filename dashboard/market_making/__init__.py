"""The market pages: a market's live page, its bot controls, its quote settings and history."""
