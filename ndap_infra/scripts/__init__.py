"""Shell and buildspec rendering shared by every generated build job (no cdktf)."""
