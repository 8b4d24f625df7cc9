"""The Skill IR (`shared/contracts/skill-ir.md`): its JSON Schema, validation and importers."""
