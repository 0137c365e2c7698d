"""Pure builders for the ML projects' pipelines, the platform's own pipeline and the
drift job (no cdktf)."""
