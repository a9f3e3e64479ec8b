"""Static checks of submission folders; nothing here imports or runs submission code."""
