"""Road geometry, vectorised world rollouts, checks and closed-loop what-if."""
