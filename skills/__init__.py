"""Skills: the Skill IR, transpilers to platform bundles, publish and export services."""
