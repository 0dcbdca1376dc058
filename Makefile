# Thin aliases for ./dev, the single entry point.
.PHONY: demo test lint bench setup
demo test lint bench setup:
	./dev $@
