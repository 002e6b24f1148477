"""The ARC Prize offline path: a Kaggle dataset folder (wheels, the student, a notebook) and the prediction it runs."""
