"""The Custom GPT target: transpile a skill to a GPT bundle, publish it, read its drift, export
it."""
