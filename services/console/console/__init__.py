"""The web console: the platform for people, in Italian, over the four services' HTTP APIs."""
