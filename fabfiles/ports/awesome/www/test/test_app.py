# Excluded from the package by build.
