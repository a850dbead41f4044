"""Video backends: turn a scene's control maps into RGB frames.

Registered explicitly in ``generator.backends.registry`` (no discovery by glob).
"""
