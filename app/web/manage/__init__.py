"""Pages of a structure's management, for its structure managers and the administrators."""
