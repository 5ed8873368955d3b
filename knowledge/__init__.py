"""The shipped knowledge, as data files read with importlib.resources."""
