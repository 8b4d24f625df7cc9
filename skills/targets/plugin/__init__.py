"""The plugin target: build Agent Skills folders and the marketplace, publish them over git, export
them, read their arrival in the workspace."""
