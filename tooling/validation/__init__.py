"""Static checks of submission folders; nothing here imports or runs submission code."""

from tooling.validation.submission import validate_paths, validate_submission

__all__ = ["validate_paths", "validate_submission"]
