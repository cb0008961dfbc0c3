"""The WhaleAPI sandbox (in progress)."""
