"""The hedges page: failed hedges and what an operator can do about each."""
