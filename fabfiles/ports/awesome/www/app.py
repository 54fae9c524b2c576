# The tutorial app (stands in for it here).
print("awesome")
