"""Running modbot for months: logging setup, health and metrics endpoint, `modbot doctor`."""
