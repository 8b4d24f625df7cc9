"""Where a skill goes: one package per target (a Custom GPT, a git plugin marketplace)."""
