from . import content, monographs  # noqa: F401  (registers the admins)
