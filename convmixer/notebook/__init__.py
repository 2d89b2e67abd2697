"""What only the notebooks need: the helpers every notebook imports (show the package's source,
show a figure, check an exercise, reveal its solution), the solutions themselves, and functions
that exist to teach (learning a kernel back, the profile table, the published numbers)."""

from convmixer.notebook.helpers import check, show_figure, show_source, solution

__all__ = ["check", "show_figure", "show_source", "solution"]
